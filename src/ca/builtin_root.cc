// Root generation and import for the built-in provider.
#include <cctype>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "ca/builtin_provider.h"
#include "ca/cert_util.h"
#include "ca/spiffe.h"
#include "ca/x509_ext.h"
#include "common/uuid.h"

namespace trellis::ca {
namespace {

constexpr int kUidChars = 8;

Status validateOptions(const RootOptions& options) {
  if (Status s = validateClusterTrustDomain(trustDomainForCluster(options.cluster_id)); !s) {
    return invalidArgument("cluster ID must be a lowercase UUID");
  }
  if (options.ttl.count() <= 0) return invalidArgument("RootCertTTL must be positive");
  if (options.serial == 0) return invalidArgument("serial numbers start at 1");
  return Status::ok();
}

Result<std::string> compactUid(std::string_view requested) {
  std::string out;
  for (char c : requested) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) out.push_back(lower);
    if (out.size() == kUidChars) break;
  }
  if (!out.empty()) return out;
  uint64_t random = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&random), sizeof(random)) != 1) {
    return ossl::internal("no randomness for the root name");
  }
  static constexpr char kBase36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (int i = 0; i < kUidChars; ++i) {
    out.push_back(kBase36[random % 36]);
    random /= 36;
  }
  return out;
}

// Self-signs a root around `key`, with the fields Consul's built-in provider writes.
Result<ossl::X509Ptr> makeRootCert(EVP_PKEY* key, const KeySpec& spec, const RootOptions& options) {
  auto uid = compactUid(options.unique_id);
  if (!uid) return uid.status();
  std::string cn = "pri-" + *uid + ".consul.ca." + options.cluster_id.substr(0, 8) + ".consul";
  auto key_id = keyId(key);
  if (!key_id) return key_id.status();

  ossl::X509Ptr cert(X509_new());
  ossl::NamePtr name(X509_NAME_new());
  if (!cert || !name || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), options.serial) != 1 ||
      X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return ossl::internal("cannot build root certificate");
  }
  Status s = setValidity(cert.get(), options.now, options.now + options.ttl);
  if (s) s = addConfExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  if (s) {
    s = addConfExtension(cert.get(), NID_key_usage,
                         "critical,digitalSignature,keyCertSign,cRLSign");
  }
  if (s) s = addSubjectKeyId(cert.get(), *key_id);
  if (s) s = addAuthorityKeyId(cert.get(), *key_id);
  if (s)
    s = addUriSanExtension(
        cert.get(), formatSpiffeId(SigningId{trustDomainForCluster(options.cluster_id)}), false);
  if (!s) return s;
  if (X509_sign(cert.get(), key, signatureDigest(spec)) <= 0) {
    return ossl::internal("cannot sign root certificate");
  }
  return cert;
}

Result<StoredRoot> finish(X509* cert, EVP_PKEY* key, const RootOptions& options) {
  auto root = describeRoot(cert, options.cluster_id);
  if (!root) return root.status();
  root->name = std::string(kBuiltinRootName);
  auto key_pem = privateKeyToPem(key);
  if (!key_pem) return key_pem.status();
  return StoredRoot{std::move(root.value()), std::move(key_pem.value())};
}

}  // namespace

Result<StoredRoot> BuiltinProvider::generateRoot(const RootOptions& options) {
  if (Status s = validateOptions(options); !s) return s;
  auto key = generateKey(options.key);
  if (!key) return key.status();
  auto cert = makeRootCert(key->get(), options.key, options);
  if (!cert) return cert.status();
  return finish(cert->get(), key->get(), options);
}

Result<StoredRoot> BuiltinProvider::importRoot(std::string_view key_pem, std::string_view cert_pem,
                                               const RootOptions& options) {
  if (Status s = validateOptions(options); !s) return s;
  auto key = parsePrivateKeyPem(key_pem);
  if (!key) return invalidArgument("PrivateKey: " + key.status().message());
  auto spec = keySpecOf(key->get());
  if (!spec) return invalidArgument("PrivateKey: " + spec.status().message());
  if (spec->type == KeyType::kRsa && spec->bits < 2048) {
    return invalidArgument("PrivateKey: RSA keys must have at least 2048 bits");
  }
  if (cert_pem.empty()) {
    auto cert = makeRootCert(key->get(), *spec, options);
    if (!cert) return cert.status();
    return finish(cert->get(), key->get(), options);
  }
  auto cert = parseCertPem(cert_pem);
  if (!cert) return invalidArgument("RootCert: " + cert.status().message());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return invalidArgument("RootCert does not match PrivateKey");
  }
  if (X509_check_ca(cert->get()) != 1) return invalidArgument("RootCert is not a CA certificate");
  if (fromAsn1Time(X509_get0_notAfter(cert->get())) <= options.now) {
    return invalidArgument("RootCert has expired");
  }
  return finish(cert->get(), key->get(), options);
}

}  // namespace trellis::ca
