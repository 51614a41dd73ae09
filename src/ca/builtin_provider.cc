#include "ca/builtin_provider.h"

#include <openssl/err.h>

#include "ca/cert_util.h"
#include "ca/csr.h"
#include "ca/x509_ext.h"

namespace trellis::ca {
namespace {

using ExtPtr = std::unique_ptr<X509_EXTENSION, ossl::Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

std::string withNewline(std::string pem) {
  if (!pem.empty() && pem.back() != '\n') pem.push_back('\n');
  return pem;
}

// Leaf extensions that do not depend on the CSR, built once per provider.
Result<std::vector<ExtPtr>> leafExtensions(std::string_view authority_key_id) {
  std::vector<ExtPtr> out;
  struct Conf {
    int nid;
    const char* value;
  };
  for (const Conf& c : {Conf{NID_basic_constraints, "critical,CA:FALSE"},
                        Conf{NID_key_usage,
                             "critical,digitalSignature,keyEncipherment,dataEncipherment,"
                             "keyAgreement"},
                        Conf{NID_ext_key_usage, "clientAuth,serverAuth"}}) {
    out.emplace_back(X509V3_EXT_conf_nid(nullptr, nullptr, c.nid, c.value));
    if (!out.back()) return ossl::internal("cannot build leaf extensions");
  }
  // Render the AKI through a scratch certificate so its encoding is shared with crossSign.
  ossl::X509Ptr scratch(X509_new());
  if (!scratch) return ossl::internal("cannot build leaf extensions");
  if (Status s = addAuthorityKeyId(scratch.get(), authority_key_id); !s) return s;
  out.emplace_back(X509_EXTENSION_dup(X509_get_ext(scratch.get(), 0)));
  if (!out.back()) return ossl::internal("cannot build leaf extensions");
  return out;
}

}  // namespace

Result<std::unique_ptr<BuiltinProvider>> BuiltinProvider::create(const StoredRoot& stored) {
  std::unique_ptr<BuiltinProvider> p(new BuiltinProvider());
  auto key = parsePrivateKeyPem(stored.signing_key_pem);
  if (!key) return invalidArgument("signing key: " + key.status().message());
  auto cert = parseCertPem(stored.root.root_cert_pem);
  if (!cert) return invalidArgument("root certificate: " + cert.status().message());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return invalidArgument("root certificate does not match the signing key");
  }
  auto spec = keySpecOf(key->get());
  if (!spec) return spec.status();
  // Sign under the root's own SKI when it has one, so chain building (which matches AKI against
  // SKI) also works for imported roots whose SKI is not our SHA-256 key ID. For generated roots
  // both are the same bytes.
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert->get());
  if (ski != nullptr) {
    p->authority_key_id_.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)),
                                static_cast<std::size_t>(ASN1_STRING_length(ski)));
  } else {
    auto id = keyId(key->get());
    if (!id) return id.status();
    p->authority_key_id_ = std::move(id.value());
  }
  auto exts = leafExtensions(p->authority_key_id_);
  if (!exts) return exts.status();
  p->issuer_.reset(X509_NAME_dup(X509_get_subject_name(cert->get())));
  if (!p->issuer_) return ossl::internal("cannot copy issuer name");
  p->root_ = stored.root;
  p->digest_ = signatureDigest(*spec);
  for (const std::string& pem : stored.root.intermediate_certs) {
    p->chain_suffix_ += withNewline(pem);
  }
  p->leaf_extensions_ = std::move(exts.value());
  p->key_ = std::move(key.value());
  p->cert_ = std::move(cert.value());
  return p;
}

Result<IssuedLeaf> BuiltinProvider::signLeaf(const LeafRequest& request) const {
  if (request.serial == 0) return invalidArgument("serial numbers start at 1");
  if (request.ttl.count() <= 0) return invalidArgument("LeafCertTTL must be positive");
  std::string name;
  if (const auto* svc = std::get_if<ServiceId>(&request.expected_id)) {
    name = svc->service;
  } else if (const auto* agent = std::get_if<AgentId>(&request.expected_id)) {
    name = agent->agent;
  } else {
    return invalidArgument("leaf certificates are only issued for service and agent IDs");
  }
  auto csr = parseCsr(request.csr_pem);
  if (!csr) return csr.status();
  auto id = checkCsrIdentity(*csr, request.expected_id);
  if (!id) return id.status();
  X509_PUBKEY* spki = X509_REQ_get_X509_PUBKEY(csr->req.get());
  auto subject_key_id = keyId(spki);
  if (!subject_key_id) return subject_key_id.status();

  TimePoint not_before = request.now - kBackdate;
  TimePoint not_after = not_before + request.ttl;
  ossl::X509Ptr leaf(X509_new());
  ossl::NamePtr empty(X509_NAME_new());
  if (!leaf || !empty || X509_set_version(leaf.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(leaf.get()), request.serial) != 1 ||
      X509_set_subject_name(leaf.get(), empty.get()) != 1 ||
      X509_set_issuer_name(leaf.get(), issuer_.get()) != 1) {
    return ossl::internal("cannot build leaf certificate");
  }
  Status s = copyPublicKey(leaf.get(), spki);
  if (s) s = setValidity(leaf.get(), not_before, not_after);
  for (const auto& ext : leaf_extensions_) {
    if (s && X509_add_ext(leaf.get(), ext.get(), -1) != 1) s = ossl::internal("add extension");
  }
  if (s) s = addSubjectKeyId(leaf.get(), *subject_key_id);
  // Critical: with an empty subject the SAN is the only name (RFC 5280 section 4.2.1.6).
  if (s) s = addUriSanExtension(leaf.get(), csr->uri_sans[0], true);
  if (!s) return s;
  if (X509_sign(leaf.get(), key_.get(), digest_) <= 0) return ossl::internal("cannot sign leaf");
  auto pem = certToPem(leaf.get());
  if (!pem) return pem.status();

  IssuedLeaf out;
  out.serial = request.serial;
  out.serial_number = serialToHex(request.serial);
  out.cert_pem = std::move(pem.value()) + chain_suffix_;
  out.service = std::move(name);
  out.service_uri = csr->uri_sans[0];
  out.authority_key_id = hexString(authority_key_id_);
  out.valid_after = not_before;
  out.valid_before = not_after;
  return out;
}

Result<std::string> BuiltinProvider::crossSign(std::string_view new_root_pem, uint64_t serial,
                                               TimePoint now) const {
  if (serial == 0) return invalidArgument("serial numbers start at 1");
  auto root = parseCertPem(new_root_pem);
  if (!root) return invalidArgument("new root: " + root.status().message());
  if (X509_check_ca(root->get()) != 1) return invalidArgument("new root is not a CA certificate");
  EVP_PKEY* public_key = X509_get0_pubkey(root->get());
  if (public_key == nullptr) return ossl::invalid("new root has no usable public key");

  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) != 1 ||
      X509_set_subject_name(cert.get(), X509_get_subject_name(root->get())) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_.get()) != 1 ||
      X509_set_pubkey(cert.get(), public_key) != 1) {
    return ossl::internal("cannot build cross-signed certificate");
  }
  TimePoint not_before = now - kBackdate;
  Status s = setValidity(cert.get(), not_before, not_before + kCrossSignedLifetime);
  // Everything the new root says about itself (CA flag, key usage, SKI, SPIFFE URI) carries over;
  // only the authority changes.
  for (int i = 0; s && i < X509_get_ext_count(root->get()); ++i) {
    X509_EXTENSION* ext = X509_get_ext(root->get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_authority_key_identifier) continue;
    if (X509_add_ext(cert.get(), ext, -1) != 1) s = ossl::internal("cannot copy extension");
  }
  if (s) s = addAuthorityKeyId(cert.get(), authority_key_id_);
  if (!s) return s;
  if (X509_sign(cert.get(), key_.get(), digest_) <= 0) {
    return ossl::internal("cannot sign cross-signed certificate");
  }
  return certToPem(cert.get());
}

}  // namespace trellis::ca
