// Bad input on the TLS ports: every case closes the connection with a counted reason and the
// proxy keeps serving.

#include <gtest/gtest.h>

#include <random>

#include "proxy/data/mesh_fixture.h"

namespace trellis::proxy::data::testing {
namespace {

class BadInputTest : public MeshTest {
 protected:
  uint16_t publicPort() { return server_->listenerPort(kPublic); }

  uint64_t failures(TlsFailure f) { return serverStats().tls_failures.get(f); }
  std::string counted() {
    std::string out;
    for (size_t r = 0; r < static_cast<size_t>(TlsFailure::kCount); ++r) {
      const auto f = static_cast<TlsFailure>(r);
      if (failures(f) > 0)
        out += std::string(tlsFailureName(f)) + "=" + std::to_string(failures(f)) + " ";
    }
    return out;
  }

  // After every bad case a good client must still get through.
  void expectStillServing() {
    TlsClient good(publicPort(), web_leaf_, pki_.sni("db"));
    ASSERT_TRUE(good.handshakeOk());
    EXPECT_EQ(good.echo("still here"), "still here");
  }

  void expectRejected(const TlsMaterial& client_leaf, TlsFailure reason,
                      const std::string& sni = "") {
    TlsClient bad(publicPort(), client_leaf, sni.empty() ? pki_.sni("db") : sni);
    // TLS 1.3 clients finish before the server judges their certificate: the proof is that no
    // byte gets through and the server counts the reason.
    if (bad.handshakeOk()) {
      EXPECT_EQ(bad.echo("sneak"), "");
    }
    EXPECT_TRUE(eventually([&] { return failures(reason) == 1; }))
        << "want " << tlsFailureName(reason) << ", counted: " << counted();
    EXPECT_EQ(echo_.accepted(), 0);
  }
};

TEST_F(BadInputTest, PlainTextOnTlsPort) {
  startMesh();
  const int fd = dial(publicPort());
  sendAll(fd, "GET / HTTP/1.1\r\nHost: db\r\n\r\n");
  EXPECT_TRUE(closedWithin(fd, 3000ms));
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return failures(TlsFailure::kNotTls) == 1; }));
  expectStillServing();
}

TEST_F(BadInputTest, GarbageOnTlsPort) {
  startMesh();
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    std::string junk(1 + rng() % 3000, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0) junk[0] = 0x16;  // looks like a handshake record, then nonsense
    const int fd = dial(publicPort());
    sendAll(fd, junk);
    ::shutdown(fd, SHUT_WR);
    EXPECT_TRUE(closedWithin(fd, 3000ms)) << "payload " << i;
    ::close(fd);
  }
  uint64_t total = 0;
  for (size_t r = 0; r < static_cast<size_t>(TlsFailure::kCount); ++r) {
    total += failures(static_cast<TlsFailure>(r));
  }
  EXPECT_EQ(total, 20u);
  expectStillServing();
}

TEST_F(BadInputTest, NoClientCertificate) {
  startMesh();
  expectRejected(TlsMaterial{}, TlsFailure::kNoPeerCertificate);
  expectStillServing();
}

TEST_F(BadInputTest, CertificateFromAnotherCa) {
  startMesh();
  Pki other(kCluster2);
  expectRejected(other.leaf("web"), TlsFailure::kUntrusted);
}

TEST_F(BadInputTest, ExpiredCertificate) {
  startMesh();
  expectRejected(pki_.leaf("web", -std::chrono::hours(24 * 10), std::chrono::hours(1)),
                 TlsFailure::kExpired);
}

TEST_F(BadInputTest, NotYetValidCertificate) {
  startMesh();
  expectRejected(pki_.leaf("web", std::chrono::hours(24 * 10)), TlsFailure::kNotYetValid);
}

TEST_F(BadInputTest, ForeignTrustDomainEvenWhenItsRootIsTrusted) {
  Pki other(kCluster2);
  listener_tweak_ = [&](Listener& l) { l.tls_material.trusted_ca_pem += other.rootPem(); };
  startMesh();
  expectRejected(other.leaf("web"), TlsFailure::kForeignTrustDomain);
  expectStillServing();
}

TEST_F(BadInputTest, SniMismatchInbound) {
  listener_tweak_ = [&](Listener& l) { l.server_names = {pki_.sni("db")}; };
  startMesh();
  expectRejected(web_leaf_, TlsFailure::kSniMismatch, pki_.sni("billing"));
  expectStillServing();
}

TEST_F(BadInputTest, WrongServerIdentityOutbound) {
  ASSERT_TRUE(server_->apply(serverConfig(db_leaf_, std::nullopt)).isOk());
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_, {pki_.uri("billing")})).isOk());
  const int fd = dial(client_->listenerPort(kUpstream));
  sendAll(fd, "hello");
  EXPECT_TRUE(closedWithin(fd, 3000ms));
  ::close(fd);
  EXPECT_TRUE(eventually(
      [&] { return clientCluster().tls_failures.get(TlsFailure::kIdentityMismatch) == 1; }));
  // db's sidecar may have accepted and dialled its app already (its side of the handshake was
  // fine); what matters is that web's bytes never left web's sidecar.
  EXPECT_EQ(clientCluster().bytes_sent.load(), 0u);
  EXPECT_EQ(serverStats().bytes_received.load(), 0u);
}

TEST_F(BadInputTest, SilentClientTimesOut) {
  server_ = std::make_unique<DataPlane>(
      DataPlaneOptions{.workers = 1, .handshake_timeout = std::chrono::milliseconds(200)});
  startMesh();
  const int fd = dial(publicPort());
  EXPECT_TRUE(closedWithin(fd, 2000ms));
  ::close(fd);
  EXPECT_EQ(failures(TlsFailure::kTimeout), 1u);
}

TEST_F(BadInputTest, Tls12ClientsAreServed) {
  startMesh();
  TlsClient old(publicPort(), web_leaf_, pki_.sni("db"), TLS1_2_VERSION);
  ASSERT_TRUE(old.handshakeOk());
  EXPECT_STREQ(SSL_get_version(old.ssl()), "TLSv1.2");
  EXPECT_EQ(old.echo("twelve"), "twelve");
}

}  // namespace
}  // namespace trellis::proxy::data::testing
