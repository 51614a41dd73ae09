#include "ca/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "ca/cert_util.h"

namespace trellis::ca {
namespace {

int noPassphrase(char*, int, int, void*) { return -1; }

Status collectSans(X509_REQ* req, ParsedCsr& out) {
  ossl::ExtensionsPtr exts(X509_REQ_get_extensions(req));
  ERR_clear_error();  // a CSR without extensions is not an error yet
  if (!exts) return Status::ok();
  bool seen = false;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    if (seen) return invalidArgument("CSR has more than one subjectAltName extension");
    seen = true;
    ossl::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    if (!names) return ossl::invalid("CSR has a malformed subjectAltName");
    for (int j = 0; j < sk_GENERAL_NAME_num(names.get()); ++j) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), j);
      if (name->type != GEN_URI) {
        ++out.other_sans;
        continue;
      }
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      out.uri_sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                                static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  return Status::ok();
}

}  // namespace

Result<ParsedCsr> parseCsr(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return invalidArgument("CSR is too large");
  ossl::BioPtr bio = ossl::memReader(pem);
  if (!bio) return ossl::internal("cannot create BIO");
  ParsedCsr out;
  // PEM_read_bio_X509_REQ would skip leading blocks of other types; Consul insists the first
  // block is the request, so look at the first BEGIN line ourselves.
  std::size_t begin = pem.find("-----BEGIN ");
  if (begin == std::string_view::npos) return invalidArgument("no PEM-encoded data found");
  std::string_view label = pem.substr(begin + 11);
  if (!label.starts_with("CERTIFICATE REQUEST-----") &&
      !label.starts_with("NEW CERTIFICATE REQUEST-----")) {
    return invalidArgument("first PEM block should be CERTIFICATE REQUEST");
  }
  // The callback refuses passphrases: OpenSSL's default would prompt on the terminal.
  out.req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, noPassphrase, nullptr));
  if (!out.req) return ossl::invalid("invalid CSR");
  out.public_key = X509_REQ_get0_pubkey(out.req.get());
  if (out.public_key == nullptr) return ossl::invalid("CSR has no usable public key");
  auto spec = keySpecOf(out.public_key);
  if (!spec) return invalidArgument("CSR key: " + spec.status().message());
  out.key = *spec;
  if (out.key.type == KeyType::kEc && out.key.bits != 256) {
    return invalidArgument("CSR key must be EC P-256 or RSA >= 2048 bits");
  }
  if (out.key.type == KeyType::kRsa &&
      (out.key.bits < kMinRsaLeafBits || out.key.bits > kMaxRsaLeafBits)) {
    return invalidArgument("CSR RSA key must have 2048 to 8192 bits, not " +
                           std::to_string(out.key.bits));
  }
  if (X509_REQ_verify(out.req.get(), out.public_key) != 1) {
    return ossl::invalid("CSR signature is invalid");
  }
  if (Status s = collectSans(out.req.get(), out); !s) return s;
  return out;
}

Result<SpiffeId> checkCsrIdentity(const ParsedCsr& csr, const SpiffeId& expected) {
  if (csr.other_sans != 0) return invalidArgument("CSR must carry only a URI SAN");
  if (csr.uri_sans.empty()) return invalidArgument("CSR has no URI SAN");
  if (csr.uri_sans.size() != 1) return invalidArgument("CSR must have exactly one URI SAN");
  auto id = parseSpiffeId(csr.uri_sans[0]);
  if (!id) return invalidArgument("CSR URI SAN: " + id.status().message());
  if (trustDomainOf(*id) != trustDomainOf(expected)) {
    return invalidArgument("CSR trust domain " + trustDomainOf(*id) + " is not this cluster's " +
                           trustDomainOf(expected));
  }
  if (!(*id == expected)) {
    return invalidArgument("CSR identity " + formatSpiffeId(*id) + " does not match " +
                           formatSpiffeId(expected));
  }
  return id;
}

}  // namespace trellis::ca
