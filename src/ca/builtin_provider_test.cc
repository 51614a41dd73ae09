#include "ca/builtin_provider.h"

#include <regex>

#include <gtest/gtest.h>

#include "ca/test_util.h"

namespace trellis::ca {
namespace {

using namespace testing;  // NOLINT
using std::chrono::hours;
using std::chrono::seconds;

ossl::X509Ptr mustParse(const std::string& pem) {
  auto cert = parseCertPem(pem);
  EXPECT_TRUE(cert.isOk()) << cert.status().message();
  return cert.isOk() ? std::move(cert.value()) : nullptr;
}

int criticalOf(X509* cert, int nid) {
  int crit = -2;
  void* ext = X509_get_ext_d2i(cert, nid, &crit, nullptr);
  if (nid == NID_basic_constraints) BASIC_CONSTRAINTS_free(static_cast<BASIC_CONSTRAINTS*>(ext));
  if (nid == NID_subject_alt_name) GENERAL_NAMES_free(static_cast<GENERAL_NAMES*>(ext));
  if (nid == NID_key_usage) ASN1_BIT_STRING_free(static_cast<ASN1_BIT_STRING*>(ext));
  return crit;  // 1 critical, 0 not, -1 absent
}

bool isCa(X509* cert) {
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr));
  bool ca = bc != nullptr && bc->ca != 0;
  BASIC_CONSTRAINTS_free(bc);
  return ca;
}

void expectRootFields(const StoredRoot& stored, KeySpec spec, int signature_nid) {
  const CaRoot& root = stored.root;
  ossl::X509Ptr cert = mustParse(root.root_cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(root.name, "Consul CA Primary Cert");
  EXPECT_EQ(root.trust_domain, kTrustDomain);
  EXPECT_EQ(root.external_trust_domain, kClusterId);
  EXPECT_EQ(root.private_key_type, keyTypeName(spec.type));
  EXPECT_EQ(root.private_key_bits, spec.bits);
  EXPECT_EQ(root.serial_number, 7u);
  EXPECT_EQ(serialOf(cert.get()), 7u);
  EXPECT_EQ(root.not_before, kNow);
  EXPECT_EQ(root.not_after, kNow + hours(87600));
  EXPECT_TRUE(root.intermediate_certs.empty());
  EXPECT_EQ(root.root_cert_pem.back(), '\n');

  // Subject CN "pri-<8 base36>.consul.ca.<first 8 of cluster id>.consul", self-issued.
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_EQ(std::string(cn), "pri-abc123xy.consul.ca.11111111.consul");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), signature_nid);

  EXPECT_TRUE(isCa(cert.get()));
  EXPECT_EQ(criticalOf(cert.get(), NID_basic_constraints), 1);
  EXPECT_EQ(criticalOf(cert.get(), NID_key_usage), 1);
  EXPECT_EQ(X509_get_key_usage(cert.get()),
            static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(criticalOf(cert.get(), NID_subject_alt_name), 0);
  EXPECT_EQ(uriSans(cert.get()), std::vector<std::string>{std::string("spiffe://") + kTrustDomain});

  // ID = SHA-1 of DER; SKI = AKI = SHA-256 of the SPKI; SigningKeyID = colon-hex SKI.
  EXPECT_EQ(root.id, certId(cert.get()));
  auto key_id = keyId(X509_get0_pubkey(cert.get()));
  ASSERT_TRUE(key_id.isOk());
  EXPECT_EQ(subjectKeyIdHex(cert.get()), hexString(*key_id));
  EXPECT_EQ(authorityKeyIdHex(cert.get()), hexString(*key_id));
  EXPECT_EQ(root.signing_key_id, hexString(*key_id));
  EXPECT_EQ(root.signing_key_id.size(), 95u);  // 32 bytes

  auto key = parsePrivateKeyPem(stored.signing_key_pem);
  ASSERT_TRUE(key.isOk());
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
}

TEST(BuiltinProviderTest, GeneratesEcRoot) {
  auto stored = BuiltinProvider::generateRoot(rootOptions({}, 7));
  ASSERT_TRUE(stored.isOk()) << stored.status().message();
  expectRootFields(*stored, {KeyType::kEc, 256}, NID_ecdsa_with_SHA256);
  EXPECT_EQ(stored->signing_key_pem.rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);
}

TEST(BuiltinProviderTest, GeneratesRsaRoot) {
  auto stored = BuiltinProvider::generateRoot(rootOptions({KeyType::kRsa, 2048}, 7));
  ASSERT_TRUE(stored.isOk()) << stored.status().message();
  expectRootFields(*stored, {KeyType::kRsa, 2048}, NID_sha256WithRSAEncryption);
  EXPECT_EQ(stored->signing_key_pem.rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);
}

TEST(BuiltinProviderTest, GeneratesP384RootWithSha384) {
  auto stored = BuiltinProvider::generateRoot(rootOptions({KeyType::kEc, 384}, 7));
  ASSERT_TRUE(stored.isOk()) << stored.status().message();
  expectRootFields(*stored, {KeyType::kEc, 384}, NID_ecdsa_with_SHA384);
}

TEST(BuiltinProviderTest, RandomUidWhenNoneGiven) {
  auto a = BuiltinProvider::generateRoot(rootOptions({}, 1, ""));
  auto b = BuiltinProvider::generateRoot(rootOptions({}, 1, ""));
  ASSERT_TRUE(a.isOk() && b.isOk());
  auto ca = mustParse(a->root.root_cert_pem);
  auto cb = mustParse(b->root.root_cert_pem);
  char na[256] = {0}, nb[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, na, sizeof(na));
  X509_NAME_get_text_by_NID(X509_get_subject_name(cb.get()), NID_commonName, nb, sizeof(nb));
  EXPECT_TRUE(std::regex_match(na, std::regex("pri-[0-9a-z]{8}\\.consul\\.ca\\.11111111\\.consul")))
      << na;
  EXPECT_STRNE(na, nb);
  EXPECT_NE(a->root.id, b->root.id);
}

TEST(BuiltinProviderTest, RefusesBadRootOptions) {
  RootOptions o = rootOptions();
  o.cluster_id = "not-a-uuid";
  EXPECT_FALSE(BuiltinProvider::generateRoot(o).isOk());
  o = rootOptions();
  o.cluster_id = "11111111-2222-3333-4444-55555555555A";
  EXPECT_FALSE(BuiltinProvider::generateRoot(o).isOk());
  o = rootOptions({}, 0);
  EXPECT_FALSE(BuiltinProvider::generateRoot(o).isOk());
  o = rootOptions();
  o.ttl = seconds(0);
  EXPECT_FALSE(BuiltinProvider::generateRoot(o).isOk());
  EXPECT_FALSE(BuiltinProvider::generateRoot(rootOptions({KeyType::kEc, 255})).isOk());
  EXPECT_FALSE(BuiltinProvider::generateRoot(rootOptions({KeyType::kRsa, 1024})).isOk());
}

class LeafTest : public ::testing::TestWithParam<KeySpec> {
 protected:
  void SetUp() override {
    // The root predates the leaves, as in life: a root is not valid before its NotBefore either.
    RootOptions options = rootOptions(GetParam(), 1);
    options.now = kNow - hours(1);
    auto stored = BuiltinProvider::generateRoot(options);
    ASSERT_TRUE(stored.isOk());
    stored_ = *stored;
    provider_ = mustCreate(stored_);
    ASSERT_TRUE(provider_);
  }
  Result<IssuedLeaf> sign(const std::string& csr, SpiffeId expected = webId(), uint64_t serial = 42,
                          seconds ttl = hours(72)) {
    LeafRequest req;
    req.csr_pem = csr;
    req.expected_id = std::move(expected);
    req.ttl = ttl;
    req.serial = serial;
    req.now = kNow;
    return provider_->signLeaf(req);
  }
  StoredRoot stored_;
  std::unique_ptr<BuiltinProvider> provider_;
};

TEST_P(LeafTest, SignedLeafVerifiesAndHasConsulFields) {
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(made.isOk());
  auto leaf = sign(made->csr_pem, webId(), 0x0c1a);
  ASSERT_TRUE(leaf.isOk()) << leaf.status().message();
  EXPECT_TRUE(verifyChain(leaf->cert_pem, {stored_.root.root_cert_pem}, kNow).isOk());

  EXPECT_EQ(leaf->serial, 0x0c1au);
  EXPECT_EQ(leaf->serial_number, "0c:1a");
  EXPECT_EQ(leaf->service, "web");
  EXPECT_EQ(leaf->service_uri, webUri());
  EXPECT_EQ(leaf->valid_after, kNow - seconds(60));
  EXPECT_EQ(leaf->valid_before, kNow - seconds(60) + hours(72));
  EXPECT_EQ(leaf->authority_key_id, stored_.root.signing_key_id);

  ossl::X509Ptr cert = mustParse(leaf->cert_pem);
  ossl::X509Ptr root = mustParse(stored_.root.root_cert_pem);
  ASSERT_TRUE(cert && root);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(root.get())), 1);
  EXPECT_EQ(serialOf(cert.get()), 0x0c1au);
  EXPECT_EQ(fromAsn1Time(X509_get0_notBefore(cert.get())), kNow - seconds(60));
  EXPECT_EQ(fromAsn1Time(X509_get0_notAfter(cert.get())), leaf->valid_before);
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert.get())), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(root.get())), 0);
  EXPECT_FALSE(isCa(cert.get()));
  EXPECT_EQ(criticalOf(cert.get(), NID_basic_constraints), 1);
  EXPECT_EQ(criticalOf(cert.get(), NID_key_usage), 1);
  EXPECT_EQ(criticalOf(cert.get(), NID_subject_alt_name), 1);
  EXPECT_EQ(X509_get_key_usage(cert.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT |
                                  KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_EQ(uriSans(cert.get()), std::vector<std::string>{webUri()});
  EXPECT_EQ(authorityKeyIdHex(cert.get()), subjectKeyIdHex(root.get()));
  auto key = parsePrivateKeyPem(made->private_key_pem);
  ASSERT_TRUE(key.isOk());
  auto leaf_key_id = keyId(key->get());
  ASSERT_TRUE(leaf_key_id.isOk());
  EXPECT_EQ(subjectKeyIdHex(cert.get()), hexString(*leaf_key_id));
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
  // The leaf key is EC P-256 whatever the CA key; the signature follows the CA key.
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())), EVP_PKEY_EC);
  EXPECT_EQ(X509_get_signature_nid(cert.get()),
            GetParam().type == KeyType::kRsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);
}

TEST_P(LeafTest, NotBeforeIsOneMinuteInThePast) {
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(made.isOk());
  auto leaf = sign(made->csr_pem, webId(), 2, hours(1));
  ASSERT_TRUE(leaf.isOk());
  const std::vector<std::string> roots{stored_.root.root_cert_pem};
  EXPECT_TRUE(verifyChain(leaf->cert_pem, roots, kNow - seconds(59)).isOk());
  auto early = verifyChain(leaf->cert_pem, roots, kNow - seconds(61));
  ASSERT_FALSE(early.isOk());
  EXPECT_NE(early.message().find("not yet valid"), std::string::npos) << early.message();
  EXPECT_TRUE(verifyChain(leaf->cert_pem, roots, kNow + seconds(3600 - 61)).isOk());
  auto late = verifyChain(leaf->cert_pem, roots, kNow + seconds(3600));
  ASSERT_FALSE(late.isOk());
  EXPECT_NE(late.message().find("expired"), std::string::npos) << late.message();
}

TEST_P(LeafTest, AgentLeaf) {
  AgentId agent{kTrustDomain, "default", "dc1", "node-1"};
  auto made = generateLeafKeyAndCsr(formatSpiffeId(agent));
  ASSERT_TRUE(made.isOk());
  auto leaf = sign(made->csr_pem, agent);
  ASSERT_TRUE(leaf.isOk()) << leaf.status().message();
  EXPECT_EQ(leaf->service, "node-1");
  EXPECT_TRUE(verifyChain(leaf->cert_pem, {stored_.root.root_cert_pem}, kNow).isOk());
}

TEST_P(LeafTest, Refusals) {
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(made.isOk());
  auto key = ecKey();
  auto weak = rsaKey(1024);
  struct Case {
    const char* name;
    Result<IssuedLeaf> result;
  };
  Case cases[] = {
      {"wrong service", sign(made->csr_pem, webId("db"))},
      {"foreign trust domain",
       sign(makeCsr(key.get(),
                    {{webUri("web", "99999999-2222-3333-4444-555555555555.consul")}, {}}))},
      {"two SANs", sign(makeCsr(key.get(), {{webUri(), webUri("db")}, {}}))},
      {"no SAN", sign(makeCsr(key.get(), {}))},
      {"garbage PEM", sign("-----BEGIN CERTIFICATE REQUEST-----\nzzzz\n")},
      {"weak RSA", sign(makeCsr(weak.get(), {{webUri()}, {}}))},
      {"signing ID", sign(made->csr_pem, SigningId{kTrustDomain})},
      {"serial zero", sign(made->csr_pem, webId(), 0)},
      {"zero ttl", sign(made->csr_pem, webId(), 1, seconds(0))},
  };
  for (const Case& c : cases) {
    ASSERT_FALSE(c.result.isOk()) << c.name;
    EXPECT_EQ(c.result.status().code(), Code::kInvalidArgument) << c.name;
    EXPECT_FALSE(c.result.status().message().empty()) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, LeafTest,
                         ::testing::Values(KeySpec{KeyType::kEc, 256},
                                           KeySpec{KeyType::kRsa, 2048}));

TEST(BuiltinProviderTest, LeafDoesNotVerifyAgainstAnotherRoot) {
  auto a = BuiltinProvider::generateRoot(rootOptions({}, 1, "aaaaaaaa"));
  auto b = BuiltinProvider::generateRoot(rootOptions({}, 2, "bbbbbbbb"));
  ASSERT_TRUE(a.isOk() && b.isOk());
  auto provider = mustCreate(*a);
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(provider && made.isOk());
  auto leaf = provider->signLeaf({made->csr_pem, webId(), hours(72), 3, kNow});
  ASSERT_TRUE(leaf.isOk());
  EXPECT_FALSE(verifyChain(leaf->cert_pem, {b->root.root_cert_pem}, kNow).isOk());
}

TEST(BuiltinProviderTest, ImportsMatchingPair) {
  auto generated = BuiltinProvider::generateRoot(rootOptions({KeyType::kRsa, 2048}, 5));
  ASSERT_TRUE(generated.isOk());
  auto imported = BuiltinProvider::importRoot(generated->signing_key_pem,
                                              generated->root.root_cert_pem, rootOptions({}, 9));
  ASSERT_TRUE(imported.isOk()) << imported.status().message();
  EXPECT_EQ(imported->root.id, generated->root.id);
  EXPECT_EQ(imported->root.serial_number, 5u);  // the certificate's, not the counter's
  EXPECT_EQ(imported->root.private_key_type, "rsa");
  EXPECT_EQ(imported->root.private_key_bits, 2048);
  EXPECT_EQ(imported->root.signing_key_id, generated->root.signing_key_id);
  EXPECT_TRUE(mustCreate(*imported));
}

TEST(BuiltinProviderTest, ImportsKeyOnlyByGeneratingTheCertificate) {
  auto key = generateKey({KeyType::kEc, 256});
  ASSERT_TRUE(key.isOk());
  auto pem = privateKeyToPem(key->get());
  ASSERT_TRUE(pem.isOk());
  auto imported = BuiltinProvider::importRoot(*pem, "", rootOptions({KeyType::kRsa, 4096}, 3));
  ASSERT_TRUE(imported.isOk()) << imported.status().message();
  EXPECT_EQ(imported->root.private_key_type, "ec");  // the key decides, not options.key
  auto cert = mustParse(imported->root.root_cert_pem);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key->get()), 1);
}

TEST(BuiltinProviderTest, ImportRefusals) {
  auto a = BuiltinProvider::generateRoot(rootOptions({}, 1, "aaaaaaaa"));
  auto b = BuiltinProvider::generateRoot(rootOptions({}, 2, "bbbbbbbb"));
  ASSERT_TRUE(a.isOk() && b.isOk());
  auto mismatch =
      BuiltinProvider::importRoot(a->signing_key_pem, b->root.root_cert_pem, rootOptions());
  ASSERT_FALSE(mismatch.isOk());
  EXPECT_EQ(mismatch.status().message(), "RootCert does not match PrivateKey");

  // A leaf and its own key are a matching pair, but not a CA.
  auto provider = mustCreate(*a);
  auto made = generateLeafKeyAndCsr(webUri());
  auto leaf = provider->signLeaf({made->csr_pem, webId(), hours(72), 3, kNow});
  ASSERT_TRUE(leaf.isOk());
  auto not_ca = BuiltinProvider::importRoot(made->private_key_pem, leaf->cert_pem, rootOptions());
  ASSERT_FALSE(not_ca.isOk());
  EXPECT_EQ(not_ca.status().message(), "RootCert is not a CA certificate");

  RootOptions later = rootOptions();
  later.now = kNow + hours(87600 + 1);
  auto expired = BuiltinProvider::importRoot(a->signing_key_pem, a->root.root_cert_pem, later);
  ASSERT_FALSE(expired.isOk());
  EXPECT_EQ(expired.status().message(), "RootCert has expired");

  EXPECT_FALSE(BuiltinProvider::importRoot("garbage", "", rootOptions()).isOk());
  EXPECT_FALSE(BuiltinProvider::importRoot(a->signing_key_pem, "garbage", rootOptions()).isOk());
  auto weak = rsaKey(1024);
  auto weak_pem = privateKeyToPem(weak.get());
  ASSERT_TRUE(weak_pem.isOk());
  EXPECT_FALSE(BuiltinProvider::importRoot(*weak_pem, "", rootOptions()).isOk());
}

TEST(BuiltinProviderTest, CreateRefusesMismatchedMaterial) {
  auto a = BuiltinProvider::generateRoot(rootOptions({}, 1, "aaaaaaaa"));
  auto b = BuiltinProvider::generateRoot(rootOptions({}, 2, "bbbbbbbb"));
  ASSERT_TRUE(a.isOk() && b.isOk());
  StoredRoot mixed{a->root, b->signing_key_pem};
  EXPECT_FALSE(BuiltinProvider::create(mixed).isOk());
  StoredRoot no_key{a->root, ""};
  EXPECT_FALSE(BuiltinProvider::create(no_key).isOk());
}

// An imported root whose SubjectKeyId is the RFC 5280 SHA-1 of the key bits (what `openssl req
// -x509` writes): leaves must carry that SKI as their AKI or chain building rejects the issuer.
TEST(BuiltinProviderTest, ImportedRootWithSha1SubjectKeyId) {
  auto key = ecKey();
  ossl::X509Ptr cert(X509_new());
  ossl::NamePtr name(X509_NAME_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), 1);
  X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("byo root"), -1, -1, 0);
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(), name.get());
  X509_set_pubkey(cert.get(), key.get());
  ASSERT_TRUE(setValidity(cert.get(), kNow - hours(1), kNow + hours(24 * 365)).isOk());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  auto cert_pem = certToPem(cert.get());
  auto key_pem = privateKeyToPem(key.get());
  ASSERT_TRUE(cert_pem.isOk() && key_pem.isOk());

  auto imported = BuiltinProvider::importRoot(*key_pem, *cert_pem, rootOptions());
  ASSERT_TRUE(imported.isOk()) << imported.status().message();
  EXPECT_EQ(imported->root.signing_key_id.size(), 59u);  // 20-byte SHA-1 SKI
  auto provider = mustCreate(*imported);
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(provider && made.isOk());
  auto leaf = provider->signLeaf({made->csr_pem, webId(), hours(72), 3, kNow});
  ASSERT_TRUE(leaf.isOk()) << leaf.status().message();
  EXPECT_EQ(leaf->authority_key_id, imported->root.signing_key_id);
  EXPECT_TRUE(verifyChain(leaf->cert_pem, {*cert_pem}, kNow).isOk());
}

}  // namespace
}  // namespace trellis::ca
