// End-to-end through two real data planes on 127.0.0.1 with real certificates: web's sidecar
// (plain in, mTLS out) chained to db's sidecar (mTLS in, RBAC, plain out to an echo server).

#include "proxy/data/data_plane.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/data/admin.h"
#include "proxy/data/mesh_fixture.h"

namespace trellis::proxy::data::testing {

// The writer stalls: what the proxies hold is bounded by their buffers (plus kernel socket
// buffers), not by what the client wanted to send. Direct: a relay buffer per direction; over
// trellis-mux/1: the stream's window on the server side, nothing beyond credit on the client.
void MeshTest::slowReaderStaysBounded(size_t server_bound) {
  EchoServer silent(/*silent=*/true);
  ASSERT_TRUE(
      server_->apply(serverConfig(db_leaf_, std::nullopt, {{"127.0.0.1", silent.port()}})).isOk());
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_)).isOk());
  const int fd = dial(client_->listenerPort(kUpstream));
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  const std::string chunk(65536, 'y');
  size_t written = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - last_progress < 500ms && written < (256u << 20)) {
    const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) {
      written += n;
      last_progress = std::chrono::steady_clock::now();
    } else {
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_LT(written, 64u << 20);
  const auto& in = *client_->stats().listenerOrNull(kUpstream);
  const auto& out = clientCluster();
  EXPECT_LE(in.bytes_received.load() - out.bytes_sent.load(), 64u * 1024);
  const auto& sin = serverStats();
  const auto& sout = *server_->stats().clusterOrNull("local_app");
  EXPECT_GT(sin.bytes_received.load(), 0u);
  EXPECT_LE(sin.bytes_received.load() - sout.bytes_sent.load(), server_bound);
  ::close(fd);
}

// `n` connections one after the other, one byte echoed on each; connections per second.
double MeshTest::sequentialConnectionRate(int n) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    EXPECT_TRUE(sendAll(fd, "p"));
    EXPECT_EQ(recvN(fd, 1), "p");
    ::close(fd);
  }
  return n / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

namespace {

std::string httpGet(uint16_t port, const std::string& path) {
  const int fd = dial(port);
  sendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  ::close(fd);
  return out;
}

TEST_F(MeshTest, EchoesThroughBothSidecarsWithHalfClose) {
  startMesh(allowOnly("web"));
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_GE(fd, 0);
  const std::string msg(100000, 'x');
  ASSERT_TRUE(sendAll(fd, msg));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);      // half-close: the reply must still arrive in full
  EXPECT_EQ(recvN(fd, msg.size() + 1), msg);  // then EOF, propagated back from the echo server
  ::close(fd);
  EXPECT_EQ(serverStats().rbac_allowed.load(), 1u);
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  EXPECT_TRUE(eventually([&] { return client_->activeConnections() == 0; }));
  EXPECT_EQ(serverStats().bytes_received.load(), msg.size());
  EXPECT_EQ(clientCluster().bytes_received.load(), msg.size());
}

TEST_F(MeshTest, AdminServesReadyStatsAndConfigDump) {
  AdminServer admin;
  ASSERT_TRUE(admin.start("127.0.0.1", 0, dataPlaneAdminHandlers(*server_)).isOk());
  EXPECT_NE(httpGet(admin.port(), "/ready").find("503"), std::string::npos);
  startMesh();
  const std::string ready = httpGet(admin.port(), "/ready");
  EXPECT_NE(ready.find("200 OK"), std::string::npos);
  EXPECT_NE(ready.find("LIVE"), std::string::npos);
  const std::string stats = httpGet(admin.port(), "/stats/prometheus");
  EXPECT_NE(stats.find("trellis_proxy_config_generation 1"), std::string::npos);
  EXPECT_NE(stats.find("trellis_proxy_listener_connections_total{listener=\"public_listener\"}"),
            std::string::npos);
  const std::string dump = httpGet(admin.port(), "/config_dump");
  EXPECT_NE(dump.find("\"public_listener\""), std::string::npos);
  EXPECT_EQ(dump.find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(httpGet(admin.port(), "/nope").find("404"), std::string::npos);
}

TEST_F(MeshTest, RbacDenyClosesAndCounts) {
  startMesh(allowOnly("api"));
  const int fd = dial(client_->listenerPort(kUpstream));
  sendAll(fd, "hello");
  EXPECT_TRUE(closedWithin(fd, 3000ms));
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return serverStats().rbac_denied.load() == 1; }));
  EXPECT_EQ(echo_.accepted(), 0);
}

TEST_F(MeshTest, ResumesUpstreamSessionsAndReusesContexts) {
  useMux(false);  // one TLS connection per proxied connection
  startMesh();
  for (int i = 0; i < 8; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    ASSERT_TRUE(sendAll(fd, "ping"));
    EXPECT_EQ(recvN(fd, 4), "ping");
    ::close(fd);
  }
  // Two workers, one session cache each: at most two full handshakes once tickets are cached.
  EXPECT_GE(clientCluster().tls_resumed.load(), 5u);
  const size_t builds = server_->tlsContextBuilds();
  ASSERT_TRUE(server_->apply(serverConfig(db_leaf_, std::nullopt)).isOk());
  EXPECT_EQ(server_->tlsContextBuilds(), builds);  // same certificates, same SSL_CTX
}

TEST_F(MeshTest, IntentionFlipClosesOpenConnectionWithinASecond) {
  startMesh(denyOnly("api"));
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "before"));
  ASSERT_EQ(recvN(fd, 6), "before");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_->apply(serverConfig(db_leaf_, denyOnly("web"))).isOk());
  EXPECT_TRUE(closedWithin(fd, 1000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  ::close(fd);
  EXPECT_EQ(serverStats().rbac_closed_existing.load(), 1u);
  // New connections are denied too.
  const int fd2 = dial(client_->listenerPort(kUpstream));
  sendAll(fd2, "after");
  EXPECT_TRUE(closedWithin(fd2, 3000ms));
  ::close(fd2);
}

TEST_F(MeshTest, IntentionFlipCanBeTurnedOff) {
  server_ =
      std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2, .enforce_on_existing = false});
  startMesh(denyOnly("api"));
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "before"));
  ASSERT_EQ(recvN(fd, 6), "before");
  ASSERT_TRUE(server_->apply(serverConfig(db_leaf_, denyOnly("web"))).isOk());
  EXPECT_FALSE(closedWithin(fd, 300ms));
  ASSERT_TRUE(sendAll(fd, "still"));
  EXPECT_EQ(recvN(fd, 5), "still");
  ::close(fd);
}

TEST_F(MeshTest, RotationKeepsStreamsAndNewConnectionsUseNewCert) {
  startMesh();
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "one"));
  ASSERT_EQ(recvN(fd, 3), "one");

  // A new CA: both sides trust old + new roots and get leaves from the new CA.
  Pki next(kCluster1);
  ASSERT_TRUE(next.ok());
  const std::string roots = pki_.rootPem() + next.rootPem();
  TlsMaterial db2 = next.leaf("db");
  TlsMaterial web2 = next.leaf("web");
  db2.trusted_ca_pem = roots;
  web2.trusted_ca_pem = roots;
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread streamer([&] {
    while (!stop) {
      const std::string m = "chunk-" + std::to_string(rounds.load());
      if (!sendAll(fd, m) || recvN(fd, m.size()) != m) return;
      ++rounds;
    }
  });
  ASSERT_TRUE(eventually([&] { return rounds.load() > 20; }));
  ASSERT_TRUE(server_->apply(serverConfig(db2, std::nullopt)).isOk());
  ASSERT_TRUE(client_->apply(clientConfig(web2)).isOk());
  const int before = rounds.load();
  EXPECT_TRUE(eventually([&] { return rounds.load() > before + 50; }));
  stop = true;
  streamer.join();
  EXPECT_TRUE(sendAll(fd, "two"));
  EXPECT_EQ(recvN(fd, 3), "two");  // the long-lived stream survived both pushes
  ::close(fd);

  // A fresh connection sees db's new leaf.
  TlsClient direct(server_->listenerPort(kPublic), web2, pki_.sni("db"));
  ASSERT_TRUE(direct.handshakeOk());
  X509* peer = SSL_get0_peer_certificate(direct.ssl());
  ASSERT_NE(peer, nullptr);
  auto expected = ca::parseCertPem(db2.cert_chain_pem);
  ASSERT_TRUE(expected.isOk());
  EXPECT_EQ(X509_cmp(peer, expected->get()), 0);
  EXPECT_EQ(direct.echo("new"), "new");
  const int fd2 = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd2, "three"));
  EXPECT_EQ(recvN(fd2, 5), "three");
  ::close(fd2);
}

TEST_F(MeshTest, RetriesAnotherEndpointWhenOneIsDown) {
  ASSERT_TRUE(server_
                  ->apply(serverConfig(db_leaf_, std::nullopt,
                                       {{"127.0.0.1", deadPort()}, {"127.0.0.1", echo_.port()}}))
                  .isOk());
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_)).isOk());
  for (int i = 0; i < 6; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    ASSERT_TRUE(sendAll(fd, "ok?"));
    EXPECT_EQ(recvN(fd, 3), "ok?") << "connection " << i;
    ::close(fd);
  }
  auto app = server_->stats().clusterOrNull("local_app");
  EXPECT_GE(app->connect_failures.load(), 1u);
  EXPECT_EQ(app->connections_total.load(), 6u);
}

TEST_F(MeshTest, SlowReaderKeepsProxyBuffersBounded) {
  useMux(false);
  slowReaderStaysBounded(64u * 1024);
}

TEST_F(MeshTest, SlowReaderKeepsMuxStreamWithinItsWindow) {
  slowReaderStaysBounded(kMuxInitialWindow);
  EXPECT_EQ(serverStats().mux_streams_total.load(), 1u);
}

// trellis-mux/1: sequential and overlapping connections share a few mTLS connections (at most two
// per client worker); each is a stream on the server, which connects it to the app on its own.
TEST_F(MeshTest, MuxCarriesConnectionsOverFewSessions) {
  startMesh(allowOnly("web"));
  std::vector<int> open;
  for (int i = 0; i < 20; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    const std::string msg = "m" + std::to_string(i);
    ASSERT_TRUE(sendAll(fd, msg));
    ASSERT_EQ(recvN(fd, msg.size()), msg);
    if (i % 2 == 0) {
      ::close(fd);
    } else {
      open.push_back(fd);  // half of them stay open while the others come and go
    }
  }
  for (int fd : open) {
    ASSERT_TRUE(sendAll(fd, "again"));
    EXPECT_EQ(recvN(fd, 5), "again");
    ::shutdown(fd, SHUT_WR);
    EXPECT_TRUE(closedWithin(fd, 3000ms));  // the FIN went through and came back
    ::close(fd);
  }
  EXPECT_LE(clientCluster().mux_sessions_total.load(), 4u);  // two per client worker at most
  EXPECT_GE(clientCluster().mux_sessions_total.load(), 1u);
  EXPECT_EQ(clientCluster().mux_fallbacks.load(), 0u);
  EXPECT_EQ(serverStats().mux_sessions_total.load(), clientCluster().mux_sessions_total.load());
  EXPECT_EQ(serverStats().mux_streams_total.load(), 20u);
  EXPECT_EQ(serverStats().rbac_allowed.load(), serverStats().mux_sessions_total.load());
  EXPECT_EQ(echo_.accepted(), 20);
  EXPECT_TRUE(eventually([&] { return serverStats().mux_streams_active.load() == 0; }));
  EXPECT_TRUE(eventually([&] { return client_->activeConnections() == 0; }));
  EXPECT_EQ(clientCluster().connections_total.load(), 20u);  // streams, as connections
}

// Sessions are balanced over the server's workers whatever SO_REUSEPORT's hash says: four
// single-worker clients, each one session, two on each of the server's two workers.
TEST_F(MeshTest, MuxSessionsSpreadOverServerWorkers) {
  startMesh();
  std::vector<std::unique_ptr<DataPlane>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<DataPlane>(DataPlaneOptions{.workers = 1}));
    ASSERT_TRUE(clients.back()->apply(clientConfig(web_leaf_)).isOk());
    const int fd = dial(clients.back()->listenerPort(kUpstream));
    ASSERT_TRUE(sendAll(fd, "spread"));
    EXPECT_EQ(recvN(fd, 6), "spread");
    ::close(fd);
  }
  EXPECT_EQ(serverStats().mux_sessions_active.load(), 4);
  EXPECT_EQ(server_->muxSessionsPerWorker(), (std::vector<size_t>{2, 2}));
  clients.clear();  // their sessions close; the server's load goes back to zero
  EXPECT_TRUE(eventually([&] {
    return server_->muxSessionsPerWorker() == std::vector<size_t>{0, 0};
  }));
}

// A server that does not speak trellis-mux/1 (Envoy, or -mux=false) gets one TLS connection per
// proxied connection; the handshake that found out is not wasted.
TEST_F(MeshTest, MuxFallsBackToDirectWhenThePeerDeclines) {
  server_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2, .mux = false});
  startMesh();
  for (int i = 0; i < 6; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    ASSERT_TRUE(sendAll(fd, "ping"));
    EXPECT_EQ(recvN(fd, 4), "ping");
    ::close(fd);
  }
  EXPECT_GE(clientCluster().mux_fallbacks.load(), 1u);
  EXPECT_LE(clientCluster().mux_fallbacks.load(), 2u);  // once per client worker, then remembered
  EXPECT_EQ(serverStats().mux_sessions_total.load(), 0u);
  EXPECT_EQ(echo_.accepted(), 6);
}

// A new expected identity for the upstream starts a new session, and its handshake checks it.
TEST_F(MeshTest, MuxSessionIsPerIdentity) {
  client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 1});
  startMesh();
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "ping"));
  ASSERT_EQ(recvN(fd, 4), "ping");
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_, {pki_.uri("billing")})).isOk());
  const int again = dial(client_->listenerPort(kUpstream));
  sendAll(again, "hello");
  EXPECT_TRUE(closedWithin(again, 3000ms));
  ::close(again);
  EXPECT_EQ(clientCluster().tls_failures.get(TlsFailure::kIdentityMismatch), 1u);
  ASSERT_TRUE(sendAll(fd, "still"));  // the stream on the first session is unaffected
  EXPECT_EQ(recvN(fd, 5), "still");
  ::close(fd);
}

// The app behind the server sidecar refuses: the stream is reset, the client connection closed,
// and the session carries on for the next connection.
TEST_F(MeshTest, MuxStreamResetWhenTheAppIsDown) {
  client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 1});
  uint16_t dead = 0;
  {
    EchoServer gone;
    dead = gone.port();
  }
  ASSERT_TRUE(server_->apply(serverConfig(db_leaf_, std::nullopt, {{"127.0.0.1", dead}})).isOk());
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_)).isOk());
  for (int i = 0; i < 3; ++i) {
    const int fd = dial(client_->listenerPort(kUpstream));
    sendAll(fd, "hello");
    EXPECT_TRUE(closedWithin(fd, 3000ms));
    ::close(fd);
  }
  EXPECT_EQ(clientCluster().mux_sessions_total.load(), 1u);
  EXPECT_EQ(clientCluster().mux_sessions_active.load(), 1);
  EXPECT_EQ(serverStats().mux_streams_total.load(), 3u);
  EXPECT_GE(server_->stats().clusterOrNull("local_app")->connect_failures.load(), 3u);
}

// Many streams at once on the sessions, each in its own thread: random sizes both ways, half of
// them half-closed after sending, the rest reset (SO_LINGER 0) halfway. Every echo that completes
// is byte-exact, every stream ends, and the sidecars are left with nothing open.
TEST_F(MeshTest, MuxStreamsUnderConcurrentChurn) {
  startMesh();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> echoed{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint32_t seed = 2654435761u * (t + 1);
      for (int i = 0; i < kPerThread; ++i) {
        seed = seed * 1103515245u + 12345u;
        const size_t size = 1 + (seed >> 8) % 300000;
        const bool reset = (seed & 1) != 0;
        std::string msg(size, '\0');
        for (size_t k = 0; k < size; ++k) msg[k] = static_cast<char>('a' + (k * 7 + t + i) % 26);
        const int fd = dial(client_->listenerPort(kUpstream));
        if (fd < 0) {
          ++bad;
          continue;
        }
        if (reset) {
          sendAll(fd, msg.substr(0, size / 2));
          linger l{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
          ::close(fd);
          continue;
        }
        std::thread writer([&] {
          sendAll(fd, msg);
          ::shutdown(fd, SHUT_WR);
        });
        const std::string got = recvN(fd, size + 1);  // the echo, then EOF
        writer.join();
        ::close(fd);
        if (got == msg) {
          ++echoed;
        } else {
          ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(echoed.load(), kThreads * kPerThread / 4);
  // The last OPEN and RESET frames may still be on their way when the client side is done.
  const uint64_t streams = kThreads * kPerThread;
  EXPECT_TRUE(eventually([&] { return client_->activeConnections() == 0; }));
  EXPECT_TRUE(eventually([&] { return serverStats().mux_streams_total.load() == streams; }));
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  EXPECT_EQ(serverStats().mux_streams_active.load(), 0);
  EXPECT_LE(clientCluster().mux_sessions_total.load(), 2u);
}

TEST_F(MeshTest, NewConnectionRateOverMux) {
  startMesh();
  const int n = 300;
  const double rate = sequentialConnectionRate(n);
  std::printf("connections: %d sequential new connections over trellis-mux/1: %.0f/s\n", n, rate);
  EXPECT_LE(clientCluster().mux_sessions_total.load(), 4u);
  EXPECT_EQ(serverStats().mux_streams_total.load(), static_cast<uint64_t>(n));
}

TEST_F(MeshTest, UnchangedListenerKeepsSocketRemovedOneDrains) {
  startMesh();
  const uint16_t port = client_->listenerPort(kUpstream);
  const int fd = dial(port);
  ASSERT_TRUE(sendAll(fd, "a"));
  ASSERT_EQ(recvN(fd, 1), "a");
  ASSERT_TRUE(client_->apply(clientConfig(web_leaf_)).isOk());
  EXPECT_EQ(client_->listenerPort(kUpstream), port);
  const int fd_again = dial(port);
  ASSERT_GE(fd_again, 0);
  ASSERT_TRUE(sendAll(fd_again, "b"));
  EXPECT_EQ(recvN(fd_again, 1), "b");
  ::close(fd_again);

  auto without = std::make_shared<ProxyConfig>(*clientConfig(web_leaf_));
  without->listeners.clear();
  ASSERT_TRUE(client_->apply(without).isOk());
  EXPECT_TRUE(eventually([&] { return dial(port) < 0; }));
  ASSERT_TRUE(sendAll(fd, "c"));  // the open connection drains naturally
  EXPECT_EQ(recvN(fd, 1), "c");
  ::close(fd);
}

TEST_F(MeshTest, IdleTimeoutCloses) {
  listener_tweak_ = [](Listener& l) { l.idle_timeout = std::chrono::milliseconds(200); };
  startMesh();
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "x"));
  ASSERT_EQ(recvN(fd, 1), "x");
  EXPECT_TRUE(closedWithin(fd, 2000ms));
  ::close(fd);
  EXPECT_EQ(serverStats().idle_timeouts.load(), 1u);
}

// A server-side session without streams closes after the listener's idle timeout (a client that
// vanished without a FIN leaves nothing behind); the client starts a new one when needed.
TEST_F(MeshTest, IdleMuxSessionClosesOnTheServer) {
  listener_tweak_ = [](Listener& l) { l.idle_timeout = std::chrono::milliseconds(300); };
  startMesh();
  for (int round = 0; round < 2; ++round) {
    const int fd = dial(client_->listenerPort(kUpstream));
    ASSERT_TRUE(sendAll(fd, "x"));
    ASSERT_EQ(recvN(fd, 1), "x");
    ::close(fd);
    EXPECT_TRUE(eventually([&] { return serverStats().mux_sessions_active.load() == 0; }));
    EXPECT_TRUE(eventually([&] { return clientCluster().mux_sessions_active.load() == 0; }));
  }
  EXPECT_EQ(serverStats().mux_sessions_total.load(), 2u);
  EXPECT_GE(serverStats().idle_timeouts.load(), 2u);
}

TEST_F(MeshTest, StopDrainsWithDeadline) {
  startMesh();
  const int fd = dial(client_->listenerPort(kUpstream));
  ASSERT_TRUE(sendAll(fd, "x"));
  ASSERT_EQ(recvN(fd, 1), "x");
  const auto t0 = std::chrono::steady_clock::now();
  client_->stop(200ms);  // the open connection does not finish: closed at the deadline
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  EXPECT_TRUE(closedWithin(fd, 1000ms));
  ::close(fd);
  EXPECT_FALSE(client_->ready());
}

TEST_F(MeshTest, BadListenerUpdateKeepsPreviousVersion) {
  startMesh(allowOnly("web"));
  Rbac broken{Rbac::Action::kAllow, {{"p", {{Principal::Kind::kUriRegex, "(unclosed", {}}}}}, ""};
  const Status s = server_->apply(serverConfig(db_leaf_, broken));
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("public_listener"), std::string::npos);
  const int fd = dial(client_->listenerPort(kUpstream));  // still served, old policy
  ASSERT_TRUE(sendAll(fd, "ok"));
  EXPECT_EQ(recvN(fd, 2), "ok");
  ::close(fd);
  EXPECT_EQ(serverStats().rbac_allowed.load(), 1u);
}

// Not benchmarks (that is bench/proxy): sanity figures, printed.
TEST_F(MeshTest, NewConnectionRateWithResumption) {
  useMux(false);
  startMesh();
  const int n = 300;
  const double rate = sequentialConnectionRate(n);
  std::printf(
      "connections: %d sequential new connections through both sidecars: %.0f/s, %llu "
      "upstream handshakes resumed\n",
      n, rate, static_cast<unsigned long long>(clientCluster().tls_resumed.load()));
  EXPECT_GE(clientCluster().tls_resumed.load(), static_cast<uint64_t>(n - 2));
}

TEST_F(MeshTest, BulkThroughputThroughBothSidecars) {
  startMesh();
  const int fd = dial(client_->listenerPort(kUpstream), 10000ms);
  const size_t total = 64u << 20;
  const std::string chunk(1 << 20, 'z');
  const auto t0 = std::chrono::steady_clock::now();
  std::thread writer([&] {
    for (size_t sent = 0; sent < total; sent += chunk.size()) sendAll(fd, chunk);
    ::shutdown(fd, SHUT_WR);
  });
  size_t got = 0;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) got += n;
  writer.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  EXPECT_EQ(got, total);
  std::printf("relay: %zu MiB echoed through 2 sidecars (one mTLS hop) in %.2f s: %.0f MiB/s\n",
              total >> 20, secs, (total >> 20) / secs);
}

}  // namespace
}  // namespace trellis::proxy::data::testing
