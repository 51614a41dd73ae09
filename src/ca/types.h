#pragma once
// Value types of the CA: what the log stores and what the HTTP API publishes. Plain, immutable
// once built, no OpenSSL handles inside, so they copy and serialise freely (the server maps them
// onto protobuf). Times are whole seconds since the Unix epoch, as in the certificates.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trellis::ca {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::seconds>;

enum class KeyType { kEc, kRsa };

// A CA or leaf key shape. Consul's names: PrivateKeyType "ec"/"rsa", PrivateKeyBits.
struct KeySpec {
  KeyType type = KeyType::kEc;
  int bits = 256;
  bool operator==(const KeySpec&) const = default;
};

// Accepts what Consul accepts for CA keys: ec 224/256/384/521, rsa 2048/4096.
Result<KeySpec> parseKeySpec(std::string_view type, int bits);
std::string_view keyTypeName(KeyType type);

// One entry of IndexedCARoots.Roots, minus the raft indexes and Active flag (both belong to the
// state store). Safe to publish: holds no secret.
struct CaRoot {
  std::string id;                     // colon-hex SHA-1 of the root certificate DER
  std::string name;                   // "Consul CA Primary Cert"
  uint64_t serial_number = 0;         // x509 serial of the root
  std::string signing_key_id;         // colon-hex SubjectKeyId of the cert that signs leaves
  std::string external_trust_domain;  // the cluster ID
  std::string trust_domain;           // "<cluster-id>.consul"
  TimePoint not_before;
  TimePoint not_after;
  std::string root_cert_pem;                    // ends with a newline
  std::vector<std::string> intermediate_certs;  // cross-signed cert(s); the leaf signer is last
  std::string private_key_type;                 // "ec" / "rsa", of the root key
  int private_key_bits = 0;
};

// A root together with its signing key: what the log replicates so every server can sign. The
// key never leaves the servers; only `root` is rendered by the API.
struct StoredRoot {
  CaRoot root;
  std::string signing_key_pem;  // SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"
};

// A signed leaf, Consul's IssuedCert without the agent-side PrivateKeyPEM and raft indexes.
struct IssuedLeaf {
  uint64_t serial = 0;
  std::string serial_number;     // colon-hex, as Consul renders it ("0c:1a")
  std::string cert_pem;          // the leaf, then the signing root's intermediate certs
  std::string service;           // service name, or agent name for agent IDs
  std::string service_uri;       // the SPIFFE ID in the SAN
  std::string authority_key_id;  // colon-hex; changes when the active root changes
  TimePoint valid_after;
  TimePoint valid_before;
};

}  // namespace trellis::ca
