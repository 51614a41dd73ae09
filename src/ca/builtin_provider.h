#pragma once
// The built-in ("consul") CA provider: the root key lives in the replicated log (StoredRoot), so
// every server can sign. Roots are made by generateRoot or importRoot on the leader, written to the
// log, and every server then loads the active one with create().

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "ca/ossl.h"
#include "ca/provider.h"
#include "ca/types.h"

namespace trellis::ca {

inline constexpr std::string_view kBuiltinRootName = "Consul CA Primary Cert";

struct RootOptions {
  std::string cluster_id;                  // lowercase UUID; trust domain is "<cluster_id>.consul"
  KeySpec key;                             // PrivateKeyType / PrivateKeyBits
  std::chrono::seconds ttl{87600 * 3600};  // RootCertTTL (10 years)
  uint64_t serial = 0;                     // from the cluster-wide counter; must be > 0
  TimePoint now;
  // 8 base36 characters for the subject CN "pri-<uid>.consul.ca.<cluster8>.consul"; empty means
  // random. Tests pass one to get stable names.
  std::string unique_id;
};

class BuiltinProvider final : public Provider {
 public:
  // A fresh key of options.key and a self-signed root: CA:TRUE, keyCertSign + cRLSign +
  // digitalSignature, URI SAN spiffe://<trust domain>, NotBefore = now, NotAfter = now + ttl.
  static Result<StoredRoot> generateRoot(const RootOptions& options);

  // Bring-your-own root (Config.PrivateKey and Config.RootCert). With an empty cert_pem a root is
  // generated around the given key. The cert must be a CA, match the key and not be expired.
  // options.key is ignored: the key decides.
  static Result<StoredRoot> importRoot(std::string_view key_pem, std::string_view cert_pem,
                                       const RootOptions& options);

  // Loads a stored root once (parse key and cert, check they match, precompute extensions), so
  // signing has nothing left to parse but the CSR.
  static Result<std::unique_ptr<BuiltinProvider>> create(const StoredRoot& stored);

  const CaRoot& activeRoot() const override { return root_; }
  Result<IssuedLeaf> signLeaf(const LeafRequest& request) const override;
  Result<std::string> crossSign(std::string_view new_root_pem, uint64_t serial,
                                TimePoint now) const override;
  bool supportsCrossSigning() const override { return true; }

 private:
  BuiltinProvider() = default;

  CaRoot root_;
  ossl::PkeyPtr key_;
  ossl::X509Ptr cert_;
  ossl::NamePtr issuer_;
  std::string authority_key_id_;  // raw bytes written as the AKI of everything we sign
  const EVP_MD* digest_ = nullptr;
  std::string chain_suffix_;  // root_.intermediate_certs, concatenated
  std::vector<std::unique_ptr<X509_EXTENSION, ossl::Deleter<X509_EXTENSION, X509_EXTENSION_free>>>
      leaf_extensions_;
};

}  // namespace trellis::ca
