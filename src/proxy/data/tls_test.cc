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

// Session resumption survives connections that end without a close_notify. These are about one
// TLS connection per proxied connection, so trellis-mux/1 is off on both sides.
class SessionTest : public MeshTest {
 protected:
  void SetUp() override {
    MeshTest::SetUp();
    server_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2, .mux = false});
    client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2, .mux = false});
  }
  uint16_t publicPort() { return server_->listenerPort(kPublic); }
  // Close with a TCP reset (SO_LINGER 0): no FIN, no close_notify.
  static void resetClose(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd);
  }
  bool allClosed() {
    return client_->stats().listenerOrNull(kUpstream)->connections_active.load() == 0 &&
           serverStats().connections_active.load() == 0;
  }
};

TEST_F(SessionTest, ResetByTheAppKeepsUpstreamSessionsResumable) {
  startMesh();
  const int n = 8;
  for (int i = 0; i < n; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    ASSERT_TRUE(sendAll(fd, "ping"));
    ASSERT_EQ(recvN(fd, 4), "ping");
    resetClose(fd);
    // Both sidecars free their SSL objects before the next connection picks a session.
    ASSERT_TRUE(eventually([&] { return allClosed(); }));
  }
  // Two workers, one session cache each: at most two full handshakes.
  EXPECT_GE(clientCluster().tls_resumed.load(), static_cast<uint64_t>(n - 2));
}

TEST_F(SessionTest, ServerKeepsTheSessionOfAResetConnection) {
  startMesh();
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(publicPort(), web_leaf_, pki_.sni("db"));
    ASSERT_TRUE(first.handshakeOk());
    ASSERT_EQ(first.echo("one"), "one");  // the ticket arrives before the echo
    // A copy: this client's own unclean close would mark the shared one not resumable.
    session = SSL_SESSION_dup(SSL_get0_session(first.ssl()));
    ASSERT_NE(session, nullptr);
    linger l{1, 0};
    ::setsockopt(SSL_get_fd(first.ssl()), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }
  ASSERT_TRUE(eventually([&] { return serverStats().connections_active.load() == 0; }));
  TlsClient second(publicPort(), web_leaf_, pki_.sni("db"), 0, session);
  SSL_SESSION_free(session);
  ASSERT_TRUE(second.handshakeOk());
  EXPECT_EQ(SSL_session_reused(second.ssl()), 1);
  EXPECT_EQ(second.echo("two"), "two");  // the resumed session still names a verified peer
  EXPECT_EQ(serverStats().rbac_denied.load(), 0u);
}

TEST_F(SessionTest, ResumptionKeepsItsTicketAndTheTicketServesAgain) {
  startMesh();
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(publicPort(), web_leaf_, pki_.sni("db"));
    ASSERT_TRUE(first.handshakeOk());
    ASSERT_EQ(first.echo("one"), "one");
    session = SSL_get1_session(first.ssl());
    keepSessionResumable(first.ssl());  // it closes without a close_notify
  }
  for (int i = 0; i < 2; ++i) {
    TlsClient again(publicPort(), web_leaf_, pki_.sni("db"), 0, session);
    ASSERT_TRUE(again.handshakeOk());
    EXPECT_EQ(SSL_session_reused(again.ssl()), 1) << "connection " << i;
    EXPECT_EQ(again.echo("two"), "two");  // reads past where a new ticket would be
    EXPECT_EQ(SSL_get0_session(again.ssl()), session) << "the server sent a new ticket";
    keepSessionResumable(again.ssl());
  }
  SSL_SESSION_free(session);
}

TEST_F(SessionTest, OverlappingConnectionsShareOneSession) {
  // One client worker: after the first (full) handshake, two connections open at the same time
  // both resume with its session. OpenSSL would retire a TLS 1.3 client session after one use.
  client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 1, .mux = false});
  startMesh();
  const int first = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(first, "a"));
  ASSERT_EQ(recvN(first, 1), "a");
  ::close(first);
  const int b = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(b, "b"));
  ASSERT_EQ(recvN(b, 1), "b");
  const int c = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(c, "c"));
  ASSERT_EQ(recvN(c, 1), "c");
  ::close(b);
  ::close(c);
  EXPECT_EQ(clientCluster().tls_resumed.load(), 2u);
}

TEST_F(SessionTest, ResumedSessionStillChecksTheServerIdentity) {
  // The expected SAN is checked on every connection, resumed ones included: a config that now
  // expects another service refuses a server whose session was cached under the old one. One
  // client worker, so the second connection finds the first one's session.
  client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 1, .mux = false});
  startMesh();
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "ping"));
  ASSERT_EQ(recvN(fd, 4), "ping");
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return allClosed(); }));
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_, {pki_.uri("billing")})).isOk());
  const int again = dial(client_->listenerPort(kUpstream));
  sendAll(again, "hello");
  EXPECT_TRUE(closedWithin(again, 3000ms));
  ::close(again);
  EXPECT_TRUE(eventually(
      [&] { return clientCluster().tls_failures.get(TlsFailure::kIdentityMismatch) == 1; }));
}

}  // namespace
}  // namespace trellis::proxy::data::testing
