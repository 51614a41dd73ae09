// Root rotation as Consul does it: the old root cross-signs the new one, the new root publishes
// the cross-signed cert as an intermediate, and leaves of both roots keep verifying.
#include <gtest/gtest.h>

#include "ca/builtin_provider.h"
#include "ca/test_util.h"

namespace trellis::ca {
namespace {

using namespace testing;  // NOLINT
using std::chrono::hours;
using std::chrono::seconds;

class RotationTest : public ::testing::TestWithParam<KeySpec> {
 protected:
  void SetUp() override {
    // Old root: EC; new root: the parameter (a key type change is what triggers rotation).
    auto old_root = BuiltinProvider::generateRoot(rootOptions({}, 1, "oldoldol"));
    ASSERT_TRUE(old_root.isOk());
    old_ = *old_root;
    old_provider_ = mustCreate(old_);
    ASSERT_TRUE(old_provider_);

    auto made = generateLeafKeyAndCsr(webUri());
    ASSERT_TRUE(made.isOk());
    auto old_leaf = old_provider_->signLeaf({made->csr_pem, webId(), hours(72), 2, kNow});
    ASSERT_TRUE(old_leaf.isOk());
    old_leaf_ = *old_leaf;

    RootOptions options = rootOptions(GetParam(), 3, "newnewne");
    options.now = kNow + hours(1);
    auto new_root = BuiltinProvider::generateRoot(options);
    ASSERT_TRUE(new_root.isOk());
    new_ = *new_root;
    auto cross = old_provider_->crossSign(new_.root.root_cert_pem, 4, kNow + hours(1));
    ASSERT_TRUE(cross.isOk()) << cross.status().message();
    cross_pem_ = *cross;
    new_.root.intermediate_certs.push_back(cross_pem_);
    new_provider_ = mustCreate(new_);
    ASSERT_TRUE(new_provider_);
  }

  StoredRoot old_, new_;
  std::unique_ptr<BuiltinProvider> old_provider_, new_provider_;
  IssuedLeaf old_leaf_;
  std::string cross_pem_;
};

TEST_P(RotationTest, CrossSignedCertFields) {
  auto cross = parseCertPem(cross_pem_);
  auto old_cert = parseCertPem(old_.root.root_cert_pem);
  auto new_cert = parseCertPem(new_.root.root_cert_pem);
  ASSERT_TRUE(cross.isOk() && old_cert.isOk() && new_cert.isOk());
  X509* c = cross->get();
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(c), X509_get_subject_name(new_cert->get())), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(old_cert->get())), 0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(c), X509_get0_pubkey(new_cert->get())), 1);
  EXPECT_EQ(X509_verify(c, X509_get0_pubkey(old_cert->get())), 1);
  EXPECT_EQ(subjectKeyIdHex(c), new_.root.signing_key_id);
  EXPECT_EQ(authorityKeyIdHex(c), old_.root.signing_key_id);
  EXPECT_EQ(X509_check_ca(c), 1);
  EXPECT_EQ(uriSans(c), std::vector<std::string>{std::string("spiffe://") + kTrustDomain});
  EXPECT_EQ(serialOf(c), 4u);
  EXPECT_EQ(fromAsn1Time(X509_get0_notBefore(c)), kNow + hours(1) - seconds(60));
  EXPECT_EQ(fromAsn1Time(X509_get0_notAfter(c)), kNow + hours(1) - seconds(60) + hours(24 * 7));
  EXPECT_EQ(X509_get_signature_nid(c), NID_ecdsa_with_SHA256);  // the old (EC) key signed it
}

TEST_P(RotationTest, NewLeafVerifiesThroughOldRootViaCrossSignedIntermediate) {
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(made.isOk());
  TimePoint now = kNow + hours(2);
  // A 10-day leaf, so it outlives the 7-day cross-signed cert below.
  auto leaf = new_provider_->signLeaf({made->csr_pem, webId(), hours(240), 5, now});
  ASSERT_TRUE(leaf.isOk()) << leaf.status().message();
  EXPECT_EQ(leaf->authority_key_id, new_.root.signing_key_id);
  // CertPEM is the leaf followed by the cross-signed cert.
  auto chain = parseCertChainPem(leaf->cert_pem);
  ASSERT_TRUE(chain.isOk());
  ASSERT_EQ(chain->size(), 2u);

  // A peer that still trusts only the old root.
  Status only_old = verifyChain(leaf->cert_pem, {old_.root.root_cert_pem}, now);
  EXPECT_TRUE(only_old.isOk()) << only_old.message();
  // A peer that has the new bundle.
  EXPECT_TRUE(verifyChain(leaf->cert_pem, {new_.root.root_cert_pem}, now).isOk());
  // Without the cross-signed intermediate the old root cannot vouch for the new leaf.
  auto leaf_only = certToPem((*chain)[0].get());
  ASSERT_TRUE(leaf_only.isOk());
  EXPECT_FALSE(verifyChain(*leaf_only, {old_.root.root_cert_pem}, now).isOk());
  // The cross-signed cert is short-lived: after 7 days only the new root works.
  TimePoint later = kNow + hours(24 * 8);
  EXPECT_FALSE(verifyChain(leaf->cert_pem, {old_.root.root_cert_pem}, later).isOk());
  Status with_new = verifyChain(leaf->cert_pem, {new_.root.root_cert_pem}, later);
  EXPECT_TRUE(with_new.isOk()) << with_new.message();
}

TEST_P(RotationTest, OldLeafStillVerifiesWithBothRootsTrusted) {
  const std::vector<std::string> bundle{old_.root.root_cert_pem, new_.root.root_cert_pem};
  Status s = verifyChain(old_leaf_.cert_pem, bundle, kNow + hours(2));
  EXPECT_TRUE(s.isOk()) << s.message();
  // And a new leaf verifies with the same bundle, intermediate or not.
  auto made = generateLeafKeyAndCsr(webUri());
  auto leaf = new_provider_->signLeaf({made->csr_pem, webId(), hours(72), 6, kNow + hours(2)});
  ASSERT_TRUE(leaf.isOk());
  EXPECT_TRUE(verifyChain(leaf->cert_pem, bundle, kNow + hours(2)).isOk());
  // The old leaf never verifies against the new root alone.
  EXPECT_FALSE(verifyChain(old_leaf_.cert_pem, {new_.root.root_cert_pem}, kNow + hours(2)).isOk());
}

INSTANTIATE_TEST_SUITE_P(NewKeyTypes, RotationTest,
                         ::testing::Values(KeySpec{KeyType::kEc, 256},
                                           KeySpec{KeyType::kRsa, 2048}));

TEST(CrossSignTest, Refusals) {
  auto root = BuiltinProvider::generateRoot(rootOptions());
  ASSERT_TRUE(root.isOk());
  auto provider = mustCreate(*root);
  ASSERT_TRUE(provider);
  EXPECT_TRUE(provider->supportsCrossSigning());
  EXPECT_FALSE(provider->crossSign("garbage", 2, kNow).isOk());
  EXPECT_FALSE(provider->crossSign(root->root.root_cert_pem, 0, kNow).isOk());
  auto made = generateLeafKeyAndCsr(webUri());
  auto leaf = provider->signLeaf({made->csr_pem, webId(), hours(72), 3, kNow});
  ASSERT_TRUE(leaf.isOk());
  auto not_ca = provider->crossSign(leaf->cert_pem, 4, kNow);
  ASSERT_FALSE(not_ca.isOk());
  EXPECT_EQ(not_ca.status().message(), "new root is not a CA certificate");
}

}  // namespace
}  // namespace trellis::ca
