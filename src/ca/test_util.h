#pragma once
// Helpers shared by the trellis_ca tests: fixed times, root options and hand-made CSRs that the
// real agent would never send.

#include <string>
#include <vector>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ca/builtin_provider.h"
#include "ca/cert_util.h"
#include "ca/x509_ext.h"

namespace trellis::ca::testing {

inline constexpr char kClusterId[] = "11111111-2222-3333-4444-555555555555";
inline constexpr char kTrustDomain[] = "11111111-2222-3333-4444-555555555555.consul";
inline const TimePoint kNow{std::chrono::seconds(1735689600)};  // 2025-01-01T00:00:00Z

inline std::string webUri(std::string_view service = "web", std::string_view td = kTrustDomain) {
  return "spiffe://" + std::string(td) + "/ns/default/dc/dc1/svc/" + std::string(service);
}
inline ServiceId webId(std::string service = "web") {
  return ServiceId{kTrustDomain, "default", "default", "dc1", std::move(service)};
}

inline RootOptions rootOptions(KeySpec key = {}, uint64_t serial = 1,
                               std::string uid = "abc123xy") {
  RootOptions o;
  o.cluster_id = kClusterId;
  o.key = key;
  o.serial = serial;
  o.now = kNow;
  o.unique_id = std::move(uid);
  return o;
}

struct CsrSpec {
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  bool corrupt_signature = false;
};

// Builds a CSR for `key` with arbitrary SANs; empty uris and dns means no SAN extension at all.
inline std::string makeCsr(EVP_PKEY* key, const CsrSpec& spec) {
  ossl::ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), key);
  if (!spec.uris.empty() || !spec.dns.empty()) {
    ossl::GeneralNamesPtr names(GENERAL_NAMES_new());
    auto add = [&](int type, const std::string& value) {
      GENERAL_NAME* n = GENERAL_NAME_new();
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
      GENERAL_NAME_set0_value(n, type, s);
      sk_GENERAL_NAME_push(names.get(), n);
    };
    for (const auto& u : spec.uris) add(GEN_URI, u);
    for (const auto& d : spec.dns) add(GEN_DNS, d);
    STACK_OF(X509_EXTENSION)* raw = nullptr;
    X509V3_add1_i2d(&raw, NID_subject_alt_name, names.get(), 1, X509V3_ADD_DEFAULT);
    ossl::ExtensionsPtr exts(raw);
    X509_REQ_add_extensions(req.get(), exts.get());
  }
  X509_REQ_sign(req.get(), key, EVP_sha256());
  if (spec.corrupt_signature) {
    const ASN1_BIT_STRING* sig = nullptr;
    X509_REQ_get0_signature(req.get(), &sig, nullptr);
    auto* mutable_sig = const_cast<ASN1_BIT_STRING*>(sig);
    mutable_sig->data[mutable_sig->length - 1] ^= 0x01;
  }
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return ossl::bioToString(bio.get());
}

inline ossl::PkeyPtr ecKey(const char* curve = "P-256") { return ossl::PkeyPtr(EVP_EC_gen(curve)); }
inline ossl::PkeyPtr rsaKey(unsigned bits) { return ossl::PkeyPtr(EVP_RSA_gen(bits)); }

inline std::unique_ptr<BuiltinProvider> mustCreate(const StoredRoot& stored) {
  auto p = BuiltinProvider::create(stored);
  if (!p.isOk()) return nullptr;
  return std::move(p.value());
}

}  // namespace trellis::ca::testing
