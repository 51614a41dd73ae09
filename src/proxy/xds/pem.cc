#include "proxy/xds/pem.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace trellis::proxy::xds {

namespace {

// Far above any real chain or bundle; bounds the work a hostile update can ask for.
constexpr size_t kMaxPemBytes = 1 << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string opensslReason() {
  unsigned long err = ERR_peek_last_error();
  std::string reason = err != 0 && ERR_reason_error_string(err) != nullptr
                           ? ERR_reason_error_string(err)
                           : "unknown error";
  ERR_clear_error();
  return reason;
}

// The certificates of `pem`, or an error naming the first one that does not parse.
Result<std::vector<X509Ptr>> readCertificates(std::string_view pem, std::string_view what) {
  if (pem.size() > kMaxPemBytes) return invalidArgument(std::string(what) + " is too large");
  ERR_clear_error();
  BioPtr bio = memBio(pem);
  std::vector<X509Ptr> certs;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  unsigned long err = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (!certs.empty() && clean_end) {
    ERR_clear_error();
    return certs;
  }
  if (certs.empty() && clean_end) {
    ERR_clear_error();
    return invalidArgument(std::string(what) + " holds no PEM certificate");
  }
  return invalidArgument(std::string(what) + ": certificate " + std::to_string(certs.size() + 1) +
                         " does not parse: " + opensslReason());
}

}  // namespace

Status checkCertificates(std::string_view pem, std::string_view what) {
  auto certs = readCertificates(pem, what);
  return certs ? Status::ok() : certs.status();
}

Status checkPrivateKey(std::string_view key_pem, std::string_view cert_chain_pem) {
  if (key_pem.size() > kMaxPemBytes) return invalidArgument("private key is too large");
  ERR_clear_error();
  BioPtr bio = memBio(key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return invalidArgument("private key does not parse: " + opensslReason());
  if (cert_chain_pem.empty()) return Status::ok();
  auto certs = readCertificates(cert_chain_pem, "certificate chain");
  if (!certs) return certs.status();
  if (X509_check_private_key(certs->front().get(), key.get()) != 1) {
    ERR_clear_error();
    return invalidArgument("private key does not match the certificate");
  }
  return Status::ok();
}

std::vector<std::string> spiffeTrustDomains(std::string_view pem) {
  constexpr std::string_view kScheme = "spiffe://";
  std::vector<std::string> out;
  auto certs = readCertificates(pem, "trusted roots");
  if (!certs) return out;
  for (const auto& cert : *certs) {
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr) continue;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      std::string_view v(reinterpret_cast<const char*>(uri->data), uri->length);
      if (v.size() <= kScheme.size() || v.substr(0, kScheme.size()) != kScheme) continue;
      v.remove_prefix(kScheme.size());
      std::string td(v.substr(0, v.find('/')));
      for (char& c : td) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!td.empty() && std::find(out.begin(), out.end(), td) == out.end()) out.push_back(td);
    }
    GENERAL_NAMES_free(names);
  }
  return out;
}

}  // namespace trellis::proxy::xds
