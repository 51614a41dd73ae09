#include "ca/cert_util.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "ca/csr.h"
#include "ca/test_util.h"

namespace trellis::ca {
namespace {

using namespace testing;  // NOLINT

TEST(CertUtilTest, HexStrings) {
  EXPECT_EQ(serialToHex(8), "08");
  EXPECT_EQ(serialToHex(0x0c1a), "0c:1a");
  EXPECT_EQ(serialToHex(0x0100), "01:00");
  EXPECT_EQ(serialToHex(UINT64_MAX), "ff:ff:ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(hexString(std::string_view("\x00\xab\x10", 3)), "00:ab:10");
  EXPECT_EQ(hexString(std::string_view()), "");
}

TEST(CertUtilTest, KeySpecs) {
  EXPECT_TRUE(parseKeySpec("ec", 256).isOk());
  EXPECT_TRUE(parseKeySpec("ec", 521).isOk());
  EXPECT_TRUE(parseKeySpec("rsa", 4096).isOk());
  EXPECT_FALSE(parseKeySpec("rsa", 1024).isOk());
  EXPECT_FALSE(parseKeySpec("ec", 2048).isOk());
  EXPECT_FALSE(parseKeySpec("ed25519", 256).isOk());
  for (KeySpec spec : {KeySpec{KeyType::kEc, 224}, KeySpec{KeyType::kEc, 256},
                       KeySpec{KeyType::kEc, 384}, KeySpec{KeyType::kRsa, 2048}}) {
    auto key = generateKey(spec);
    ASSERT_TRUE(key.isOk());
    auto back = keySpecOf(key->get());
    ASSERT_TRUE(back.isOk());
    EXPECT_EQ(*back, spec);
  }
  EXPECT_FALSE(generateKey({KeyType::kEc, 255}).isOk());
  ossl::PkeyPtr k1(EVP_EC_gen("secp256k1"));
  ASSERT_TRUE(k1);
  EXPECT_FALSE(keySpecOf(k1.get()).isOk());
}

TEST(CertUtilTest, PrivateKeyPemRoundTripUsesTraditionalLabels) {
  auto ec = generateKey({KeyType::kEc, 256});
  auto rsa = generateKey({KeyType::kRsa, 2048});
  ASSERT_TRUE(ec.isOk() && rsa.isOk());
  auto ec_pem = privateKeyToPem(ec->get());
  auto rsa_pem = privateKeyToPem(rsa->get());
  ASSERT_TRUE(ec_pem.isOk() && rsa_pem.isOk());
  EXPECT_EQ(ec_pem->rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(rsa_pem->rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);
  auto back = parsePrivateKeyPem(*ec_pem);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(EVP_PKEY_eq(back->get(), ec->get()), 1);
}

TEST(CertUtilTest, PemParsingRefusesGarbage) {
  EXPECT_FALSE(parseCertPem("").isOk());
  EXPECT_FALSE(parseCertPem("hello").isOk());
  EXPECT_FALSE(
      parseCertPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").isOk());
  EXPECT_FALSE(parsePrivateKeyPem("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n").isOk());
  EXPECT_FALSE(parseCertPem(std::string(kMaxPemBytes + 1, 'a')).isOk());
  auto stored = BuiltinProvider::generateRoot(rootOptions());
  ASSERT_TRUE(stored.isOk());
  // A key block first is refused even though a certificate follows.
  auto mixed = parseCertPem(stored->signing_key_pem + stored->root.root_cert_pem);
  ASSERT_FALSE(mixed.isOk());
  EXPECT_NE(mixed.status().message().find("first PEM block should be CERTIFICATE"),
            std::string::npos);
  auto chain = parseCertChainPem(stored->root.root_cert_pem + stored->root.root_cert_pem);
  ASSERT_TRUE(chain.isOk());
  EXPECT_EQ(chain->size(), 2u);
}

TEST(CertUtilTest, IdsMatchOpenSslDigests) {
  auto stored = BuiltinProvider::generateRoot(rootOptions());
  ASSERT_TRUE(stored.isOk());
  auto cert = parseCertPem(stored->root.root_cert_pem);
  ASSERT_TRUE(cert.isOk());
  unsigned char sha1[20];
  unsigned int len = 0;
  ASSERT_EQ(X509_digest(cert->get(), EVP_sha1(), sha1, &len), 1);
  EXPECT_EQ(certId(cert->get()), hexString(sha1, len));
  EXPECT_EQ(certId(cert->get()).size(), 59u);  // 20 bytes

  // Key ID: SHA-256 over the DER SubjectPublicKeyInfo.
  unsigned char spki_sha256[32];
  ASSERT_EQ(X509_pubkey_digest(cert->get(), EVP_sha256(), spki_sha256, &len), 1);
  // X509_pubkey_digest hashes only the key bits, not the whole SPKI, so it must differ.
  auto id = keyId(X509_get0_pubkey(cert->get()));
  ASSERT_TRUE(id.isOk());
  EXPECT_EQ(id->size(), 32u);
  EXPECT_NE(*id, std::string(reinterpret_cast<char*>(spki_sha256), 32));
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(X509_get0_pubkey(cert->get()), &der);
  unsigned char expected[32];
  SHA256(der, static_cast<size_t>(der_len), expected);
  OPENSSL_free(der);
  EXPECT_EQ(*id, std::string(reinterpret_cast<char*>(expected), 32));
}

TEST(CertUtilTest, LeafKeyAndCsr) {
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(made.isOk()) << made.status().message();
  EXPECT_EQ(made->private_key_pem.rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(made->csr_pem.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);
  auto csr = parseCsr(made->csr_pem);
  ASSERT_TRUE(csr.isOk()) << csr.status().message();
  EXPECT_EQ(csr->key, (KeySpec{KeyType::kEc, 256}));
  ASSERT_EQ(csr->uri_sans.size(), 1u);
  EXPECT_EQ(csr->uri_sans[0], webUri());
  EXPECT_EQ(csr->other_sans, 0u);
  EXPECT_EQ(X509_NAME_entry_count(X509_REQ_get_subject_name(csr->req.get())), 0);
  auto key = parsePrivateKeyPem(made->private_key_pem);
  ASSERT_TRUE(key.isOk());
  EXPECT_EQ(EVP_PKEY_eq(key->get(), csr->public_key), 1);

  EXPECT_FALSE(generateLeafKeyAndCsr("http://example.com/").isOk());
  EXPECT_FALSE(generateLeafKeyAndCsr(webUri(), {KeyType::kEc, 100}).isOk());
}

}  // namespace
}  // namespace trellis::ca
