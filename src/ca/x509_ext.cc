#include "ca/x509_ext.h"

namespace trellis::ca {
namespace {

using OctetPtr =
    std::unique_ptr<ASN1_OCTET_STRING, ossl::Deleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
using AkidPtr =
    std::unique_ptr<AUTHORITY_KEYID, ossl::Deleter<AUTHORITY_KEYID, AUTHORITY_KEYID_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ossl::Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

OctetPtr makeOctets(std::string_view bytes) {
  OctetPtr out(ASN1_OCTET_STRING_new());
  if (out && ASN1_OCTET_STRING_set(out.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                   static_cast<int>(bytes.size())) != 1) {
    out.reset();
  }
  return out;
}

}  // namespace

ossl::GeneralNamesPtr makeUriSan(std::string_view uri) {
  ossl::GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return nullptr;
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  if (name == nullptr || value == nullptr ||
      ASN1_STRING_set(value, uri.data(), static_cast<int>(uri.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(value);
    return nullptr;
  }
  GENERAL_NAME_set0_value(name, GEN_URI, value);
  if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
    GENERAL_NAME_free(name);
    return nullptr;
  }
  return names;
}

Status addConfExtension(X509* cert, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return ossl::internal("cannot add extension");
  return Status::ok();
}

Status addUriSanExtension(X509* cert, std::string_view uri, bool critical) {
  ossl::GeneralNamesPtr names = makeUriSan(uri);
  if (!names || X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical ? 1 : 0,
                                  X509V3_ADD_REPLACE) != 1) {
    return ossl::internal("cannot add subjectAltName");
  }
  return Status::ok();
}

Status addSubjectKeyId(X509* cert, std::string_view key_id) {
  OctetPtr octets = makeOctets(key_id);
  if (!octets || X509_add1_ext_i2d(cert, NID_subject_key_identifier, octets.get(), 0,
                                   X509V3_ADD_REPLACE) != 1) {
    return ossl::internal("cannot add subjectKeyIdentifier");
  }
  return Status::ok();
}

Status addAuthorityKeyId(X509* cert, std::string_view key_id) {
  AkidPtr akid(AUTHORITY_KEYID_new());
  if (!akid) return ossl::internal("cannot add authorityKeyIdentifier");
  akid->keyid = makeOctets(key_id).release();
  if (akid->keyid == nullptr || X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid.get(), 0,
                                                  X509V3_ADD_REPLACE) != 1) {
    return ossl::internal("cannot add authorityKeyIdentifier");
  }
  return Status::ok();
}

}  // namespace trellis::ca
