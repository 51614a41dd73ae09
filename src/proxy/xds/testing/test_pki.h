#pragma once
// A throwaway CA and leaves with SPIFFE URI SANs, made with OpenSSL, for tests and the fuzz seed
// generator: ingestion parses every PEM, so the generators' placeholder text would be rejected.

#include <string>

namespace trellis::proxy::xds::testing {

struct TestPki {
  std::string root_pem;
  std::string leaf_chain_pem;  // leaf, signed by the root
  std::string leaf_key_pem;
};

// A fresh EC P-256 root and a leaf for `spiffe_uri`, valid for a day around now. `root_uri`, when
// set, goes into the root's URI SAN (as the built-in CA writes `spiffe://<trust-domain>`).
TestPki makeTestPki(const std::string& spiffe_uri, const std::string& root_uri = "");

}  // namespace trellis::proxy::xds::testing
