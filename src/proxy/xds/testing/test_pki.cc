#include "proxy/xds/testing/test_pki.h"

#include <memory>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace trellis::proxy::xds::testing {

namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Pkey newKey() { return Pkey(EVP_EC_gen("P-256"), EVP_PKEY_free); }

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert newCert(EVP_PKEY* key, const char* cn, long serial) {
  Cert cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  return cert;
}

std::string certPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string keyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace

TestPki makeTestPki(const std::string& spiffe_uri, const std::string& root_uri) {
  Pkey root_key = newKey();
  Cert root = newCert(root_key.get(), "Test Root CA", 1);
  X509_set_issuer_name(root.get(), X509_get_subject_name(root.get()));
  addExt(root.get(), root.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExt(root.get(), root.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!root_uri.empty()) {
    addExt(root.get(), root.get(), NID_subject_alt_name, ("URI:" + root_uri).c_str());
  }
  X509_sign(root.get(), root_key.get(), EVP_sha256());

  Pkey leaf_key = newKey();
  Cert leaf = newCert(leaf_key.get(), "leaf", 2);
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(root.get()));
  const std::string san = "URI:" + spiffe_uri;
  addExt(leaf.get(), root.get(), NID_subject_alt_name, san.c_str());
  addExt(leaf.get(), root.get(), NID_basic_constraints, "critical,CA:FALSE");
  X509_sign(leaf.get(), root_key.get(), EVP_sha256());

  return TestPki{certPem(root.get()), certPem(leaf.get()), keyPem(leaf_key.get())};
}

}  // namespace trellis::proxy::xds::testing
