#include "ca/cert_util.h"

#include <ctime>
#include <optional>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "ca/spiffe.h"
#include "ca/x509_ext.h"

namespace trellis::ca {
namespace {

constexpr std::size_t kMaxChainCerts = 16;

struct PemBlock {
  std::string name;
  std::string der;
};

// Reads the next PEM block. Ok(nullopt) at a clean end of input.
Result<std::optional<PemBlock>> nextPemBlock(BIO* bio) {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
    unsigned long err = ERR_peek_last_error();
    if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
      ERR_clear_error();
      return std::optional<PemBlock>();
    }
    return ossl::invalid("malformed PEM");
  }
  PemBlock block{name, std::string(reinterpret_cast<char*>(data), static_cast<std::size_t>(len))};
  bool encrypted = header != nullptr && header[0] != '\0';
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (encrypted) return invalidArgument("encrypted PEM blocks are not supported");
  return std::optional<PemBlock>(std::move(block));
}

Result<PemBlock> firstPemBlock(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return invalidArgument("PEM input is too large");
  ossl::BioPtr bio = ossl::memReader(pem);
  if (!bio) return ossl::internal("cannot create BIO");
  auto block = nextPemBlock(bio.get());
  if (!block) return block.status();
  if (!block->has_value()) return invalidArgument("no PEM-encoded data found");
  return std::move(**block);
}

Result<ossl::X509Ptr> certFromDer(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return ossl::invalid("invalid certificate");
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return invalidArgument("invalid certificate: trailing data");
  }
  return cert;
}

}  // namespace

std::string hexString(const unsigned char* data, std::size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 3);
  for (std::size_t i = 0; i < len; ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string serialToHex(uint64_t serial) {
  unsigned char bytes[8];
  std::size_t n = 0;
  for (int shift = 56; shift >= 0; shift -= 8) {
    unsigned char b = static_cast<unsigned char>(serial >> shift);
    if (n == 0 && b == 0) continue;
    bytes[n++] = b;
  }
  return hexString(bytes, n);
}

Result<ossl::X509Ptr> parseCertPem(std::string_view pem) {
  auto block = firstPemBlock(pem);
  if (!block) return block.status();
  if (block->name != "CERTIFICATE") {
    return invalidArgument("first PEM block should be CERTIFICATE, not " + block->name);
  }
  return certFromDer(block->der);
}

Result<std::vector<ossl::X509Ptr>> parseCertChainPem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return invalidArgument("PEM input is too large");
  ossl::BioPtr bio = ossl::memReader(pem);
  if (!bio) return ossl::internal("cannot create BIO");
  std::vector<ossl::X509Ptr> certs;
  while (true) {
    auto block = nextPemBlock(bio.get());
    if (!block) return block.status();
    if (!block->has_value()) break;
    if ((*block)->name != "CERTIFICATE") return invalidArgument("PEM block is not a CERTIFICATE");
    if (certs.size() == kMaxChainCerts) return invalidArgument("too many certificates in chain");
    auto cert = certFromDer((*block)->der);
    if (!cert) return cert.status();
    certs.push_back(std::move(cert.value()));
  }
  if (certs.empty()) return invalidArgument("no PEM-encoded data found");
  return certs;
}

Result<ossl::PkeyPtr> parsePrivateKeyPem(std::string_view pem) {
  auto block = firstPemBlock(pem);
  if (!block) return block.status();
  if (block->name != "EC PRIVATE KEY" && block->name != "RSA PRIVATE KEY" &&
      block->name != "PRIVATE KEY") {
    return invalidArgument("unknown PEM block type for signing key: " + block->name);
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(block->der.data());
  ossl::PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(block->der.size())));
  if (!key) return ossl::invalid("invalid private key");
  return key;
}

Result<std::string> certToPem(X509* cert) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return ossl::internal("cannot write PEM");
  return ossl::bioToString(bio.get());
}

Result<std::string> privateKeyToPem(EVP_PKEY* key) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                   nullptr) != 1) {
    return ossl::internal("cannot write private key PEM");
  }
  return ossl::bioToString(bio.get());
}

Result<ossl::PkeyPtr> generateKey(const KeySpec& spec) {
  ossl::PkeyPtr key;
  if (spec.type == KeyType::kRsa) {
    if (spec.bits < 2048 || spec.bits > 8192) return invalidArgument("unsupported RSA key size");
    key.reset(EVP_RSA_gen(static_cast<unsigned int>(spec.bits)));
  } else {
    const char* curve = spec.bits == 224   ? "P-224"
                        : spec.bits == 256 ? "P-256"
                        : spec.bits == 384 ? "P-384"
                        : spec.bits == 521 ? "P-521"
                                           : nullptr;
    if (curve == nullptr) return invalidArgument("unsupported EC key size");
    key.reset(EVP_EC_gen(curve));
  }
  if (!key) return ossl::internal("key generation failed");
  return key;
}

Result<KeySpec> keySpecOf(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return KeySpec{KeyType::kRsa, EVP_PKEY_get_bits(key)};
    case EVP_PKEY_EC: {
      char name[64] = {0};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(key, name, sizeof(name), &len) != 1) {
        ERR_clear_error();
        return invalidArgument("EC key without a named curve");
      }
      std::string_view curve(name, len);
      if (curve == "prime256v1" || curve == "P-256") return KeySpec{KeyType::kEc, 256};
      if (curve == "secp224r1" || curve == "P-224") return KeySpec{KeyType::kEc, 224};
      if (curve == "secp384r1" || curve == "P-384") return KeySpec{KeyType::kEc, 384};
      if (curve == "secp521r1" || curve == "P-521") return KeySpec{KeyType::kEc, 521};
      return invalidArgument("unsupported EC curve " + std::string(curve));
    }
    default:
      return invalidArgument("unsupported key type (want ec or rsa)");
  }
}

std::string certId(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return {};
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(der, static_cast<std::size_t>(len), digest);
  OPENSSL_free(der);
  return hexString(digest, sizeof(digest));
}

Result<std::string> keyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return ossl::internal("cannot encode public key");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(len), digest);
  OPENSSL_free(der);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

Result<std::string> keyId(X509_PUBKEY* spki) {
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(spki, &der);
  if (len <= 0) return ossl::internal("cannot encode public key");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(len), digest);
  OPENSSL_free(der);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

Status copyPublicKey(X509* cert, X509_PUBKEY* spki) {
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(&algorithm, &bits, &bits_len, &algor, spki) != 1 || bits_len <= 0) {
    return ossl::invalid("unreadable public key");
  }
  const ASN1_OBJECT* param_object = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param_value = nullptr;
  X509_ALGOR_get0(&param_object, &param_type, &param_value, algor);
  void* param = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param = OBJ_dup(static_cast<const ASN1_OBJECT*>(param_value));
  } else if (param_type == V_ASN1_SEQUENCE) {
    param = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param_value));
  } else if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) {
    return invalidArgument("unsupported public key parameters");
  }
  ASN1_OBJECT* algorithm_copy = OBJ_dup(algorithm);
  auto* enc = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(bits_len)));
  X509_PUBKEY* target = X509_get_X509_PUBKEY(cert);
  if (algorithm_copy == nullptr || enc == nullptr || target == nullptr ||
      (param == nullptr && (param_type == V_ASN1_OBJECT || param_type == V_ASN1_SEQUENCE)) ||
      X509_PUBKEY_set0_param(target, algorithm_copy, param_type, param, enc, bits_len) != 1) {
    ASN1_OBJECT_free(algorithm_copy);
    if (param_type == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param));
    if (param_type == V_ASN1_SEQUENCE) ASN1_STRING_free(static_cast<ASN1_STRING*>(param));
    OPENSSL_free(enc);
    return ossl::internal("cannot copy public key");
  }
  return Status::ok();
}

std::string subjectKeyIdHex(X509* cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
  if (ski == nullptr) return {};
  return hexString(ASN1_STRING_get0_data(ski), static_cast<std::size_t>(ASN1_STRING_length(ski)));
}

std::string authorityKeyIdHex(X509* cert) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  if (aki == nullptr) return {};
  return hexString(ASN1_STRING_get0_data(aki), static_cast<std::size_t>(ASN1_STRING_length(aki)));
}

uint64_t serialOf(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  const unsigned char* data = ASN1_STRING_get0_data(serial);
  int len = ASN1_STRING_length(serial);
  uint64_t out = 0;
  for (int i = len > 8 ? len - 8 : 0; i < len; ++i) out = out << 8 | data[i];
  return out;
}

Status setValidity(X509* cert, TimePoint not_before, TimePoint not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert),
                    static_cast<time_t>(not_before.time_since_epoch().count())) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert),
                    static_cast<time_t>(not_after.time_since_epoch().count())) == nullptr) {
    return ossl::internal("cannot set certificate validity");
  }
  return Status::ok();
}

const EVP_MD* signatureDigest(const KeySpec& key) {
  if (key.type == KeyType::kEc && key.bits == 384) return EVP_sha384();
  if (key.type == KeyType::kEc && key.bits == 521) return EVP_sha512();
  return EVP_sha256();
}

Result<CaRoot> describeRoot(X509* cert, std::string_view cluster_id) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return ossl::invalid("root certificate has no usable public key");
  auto spec = keySpecOf(key);
  if (!spec) return spec.status();
  auto pem = certToPem(cert);
  if (!pem) return pem.status();
  CaRoot root;
  root.id = certId(cert);
  root.serial_number = serialOf(cert);
  root.signing_key_id = subjectKeyIdHex(cert);
  root.external_trust_domain = std::string(cluster_id);
  root.trust_domain = trustDomainForCluster(cluster_id);
  root.not_before = fromAsn1Time(X509_get0_notBefore(cert));
  root.not_after = fromAsn1Time(X509_get0_notAfter(cert));
  root.root_cert_pem = std::move(pem.value());
  root.private_key_type = std::string(keyTypeName(spec->type));
  root.private_key_bits = spec->bits;
  return root;
}

TimePoint fromAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint{};
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

std::vector<std::string> uriSans(X509* cert) {
  std::vector<std::string> out;
  ossl::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  return out;
}

Result<LeafKeyAndCsr> generateLeafKeyAndCsr(std::string_view spiffe_uri, const KeySpec& spec) {
  if (auto id = parseSpiffeId(spiffe_uri); !id) return id.status();
  auto key = generateKey(spec);
  if (!key) return key.status();
  ossl::ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key->get()) != 1) {
    return ossl::internal("cannot build CSR");
  }
  ossl::GeneralNamesPtr san = makeUriSan(spiffe_uri);
  if (!san) return ossl::internal("cannot build CSR SAN");
  STACK_OF(X509_EXTENSION)* raw = nullptr;
  // Critical because the subject is empty (RFC 5280 section 4.2.1.6).
  int added = X509V3_add1_i2d(&raw, NID_subject_alt_name, san.get(), 1, X509V3_ADD_DEFAULT);
  ossl::ExtensionsPtr exts(raw);
  if (added != 1 || X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
    return ossl::internal("cannot add CSR extensions");
  }
  if (X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) {
    return ossl::internal("cannot sign CSR");
  }
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return ossl::internal("cannot write CSR PEM");
  }
  auto key_pem = privateKeyToPem(key->get());
  if (!key_pem) return key_pem.status();
  return LeafKeyAndCsr{std::move(key_pem.value()), ossl::bioToString(bio.get())};
}

Status verifyChain(std::string_view chain_pem, const std::vector<std::string>& root_pems,
                   TimePoint now) {
  auto chain = parseCertChainPem(chain_pem);
  if (!chain) return chain.status();
  ossl::StorePtr store(X509_STORE_new());
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  ossl::StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return ossl::internal("cannot create X509 store");
  for (const std::string& pem : root_pems) {
    auto root = parseCertPem(pem);
    if (!root) return root.status();
    if (X509_STORE_add_cert(store.get(), root->get()) != 1) return ossl::internal("bad root");
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(untrusted.get(), (*chain)[i].get()) <= 0) return ossl::internal("push");
    X509_up_ref((*chain)[i].get());
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), (*chain)[0].get(), untrusted.get()) != 1) {
    return ossl::internal("cannot init verification");
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now.time_since_epoch().count()));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return invalidArgument(std::string("certificate verify failed: ") +
                           X509_verify_cert_error_string(err));
  }
  return Status::ok();
}

}  // namespace trellis::ca
