// XdsClient against the real ADS server on 127.0.0.1, fed by a fake SnapshotSource that serves
// the generators' output: ACK, updates, NACK, EDS/SDS subscriptions, server restart. The client
// speaks HTTP/2 itself; the gRPC library's servers here check that it interoperates, and a
// hand-written HTTP/2 server breaks the rules in ways gRPC servers never would.
#include "proxy/xds/xds_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <envoy/service/discovery/v3/ads.grpc.pb.h>
#include <grpcpp/grpcpp.h>

#include <thread>

#include "proxy/xds/testing/snapshots.h"
#include "xds/generators/test_snapshots.h"
#include "xds/server/ads_server.h"
#include "xds/server/stream_common.h"

namespace trellis::proxy::xds {
namespace {

using namespace std::chrono_literals;
namespace gen = trellis::xds::testing;
using trellis::xds::Interest;
using trellis::xds::ResourceSetPtr;

const std::string kTd = gen::kTrustDomain;
const std::string kDb = "db.default.dc1.internal." + kTd;
const std::string kCache = "cache.default.dc2.internal." + kTd;

// Serves the newest set to every stream and records nodes and interests.
class FakeSource : public trellis::xds::SnapshotSource {
 public:
  class Sub : public trellis::xds::Subscription {
   public:
    Sub(FakeSource& source, int id) : source_(source), id_(id) {}
    ~Sub() override {
      std::lock_guard lock(source_.mu_);
      source_.live_.erase(id_);
    }
    void interest(std::string_view type_url, const std::vector<std::string>& names,
                  bool wildcard) override {
      std::lock_guard lock(source_.mu_);
      source_.interests_.push_back({std::string(type_url), names, wildcard});
    }

   private:
    FakeSource& source_;
    int id_;
  };

  Result<std::unique_ptr<trellis::xds::Subscription>> subscribe(
      const trellis::xds::NodeInfo& node, std::function<void(ResourceSetPtr)> on_update) override {
    std::lock_guard lock(mu_);
    nodes_.push_back(node);
    int id = next_id_++;
    live_[id] = on_update;
    if (current_) on_update(current_);
    return std::unique_ptr<trellis::xds::Subscription>(new Sub(*this, id));
  }
  void push(ResourceSetPtr set) {
    std::lock_guard lock(mu_);
    current_ = set;
    for (auto& [id, fn] : live_) fn(set);
  }
  std::vector<trellis::xds::NodeInfo> nodes() {
    std::lock_guard lock(mu_);
    return nodes_;
  }
  // The last interest of `type` recorded.
  std::optional<Interest> lastInterest(std::string_view type) {
    std::lock_guard lock(mu_);
    for (auto it = interests_.rbegin(); it != interests_.rend(); ++it) {
      if (it->type_url == type) return *it;
    }
    return std::nullopt;
  }

 private:
  std::mutex mu_;
  ResourceSetPtr current_;
  std::map<int, std::function<void(ResourceSetPtr)>> live_;
  std::vector<trellis::xds::NodeInfo> nodes_;
  std::vector<Interest> interests_;
  int next_id_ = 0;
};

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

const testing::TestPki& pki() {
  static const testing::TestPki p =
      testing::makeTestPki("spiffe://" + kTd + "/ns/default/dc/dc1/svc/web");
  return p;
}

ResourceSetPtr setOf(proxycfg::ConfigSnapshot snap, uint64_t index) {
  snap.index = index;
  return testing::generateSet(testing::withCerts(std::move(snap), pki()));
}

// The tcp sidecar with `db_endpoints` endpoints behind db.
proxycfg::ConfigSnapshot tcpWithDb(int db_endpoints, bool sds = false) {
  auto snap = sds ? gen::sdsSidecar() : gen::tcpSidecar();
  snap.upstreams[1].endpoints = gen::endpointSet("db", "dc1", db_endpoints);
  return snap;
}

class XdsClientTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer("127.0.0.1:0"); }
  void TearDown() override {
    client_.reset();
    if (server_) server_->stop();
  }

  void startServer(const std::string& address) {
    trellis::xds::AdsServerOptions options;
    options.address = address;
    auto server = trellis::xds::AdsServer::start(source_, metrics_, options);
    ASSERT_TRUE(server) << server.status().message();
    server_ = std::move(*server);
  }

  void startClient() {
    XdsClientOptions options;
    options.target = "127.0.0.1:" + std::to_string(server_->port());
    options.node_id = "web-sidecar-proxy";
    options.node_cluster = "web";
    options.token = "t0ken";
    options.initial_backoff = 20ms;
    options.max_backoff = 200ms;
    options.jitter_seed = 7;
    client_ = std::make_unique<XdsClient>(options, [this](ProxyConfigPtr c) {
      std::lock_guard lock(mu_);
      EXPECT_TRUE(!latest_ || c->generation > latest_->generation);
      latest_ = std::move(c);
    });
    client_->start();
  }

  ProxyConfigPtr latest() {
    std::lock_guard lock(mu_);
    return latest_;
  }
  size_t dbEndpoints() {
    auto c = latest();
    if (!c || !c->clusters.contains(kDb)) return 0;
    return c->clusters.at(kDb).endpoints.size();
  }
  bool fullyConfigured() {
    auto c = latest();
    return c && c->listeners.size() == 3 && c->clusters.size() == 3;
  }

  FakeSource source_;
  trellis::xds::XdsMetrics metrics_;
  std::unique_ptr<trellis::xds::AdsServer> server_;
  std::unique_ptr<XdsClient> client_;
  std::mutex mu_;
  ProxyConfigPtr latest_;
};

TEST_F(XdsClientTest, AppliesUpdatesNacksBadOnesAndSurvivesRestart) {
  source_.push(setOf(tcpWithDb(3), 1));
  startClient();
  ASSERT_TRUE(eventually([&] { return fullyConfigured() && dbEndpoints() == 3; }));
  ASSERT_FALSE(source_.nodes().empty());
  EXPECT_EQ(source_.nodes()[0].id, "web-sidecar-proxy");
  EXPECT_EQ(source_.nodes()[0].cluster, "web");
  EXPECT_EQ(source_.nodes()[0].user_agent_name, "trellis-proxy");
  auto eds = source_.lastInterest(kEndpointType);
  ASSERT_TRUE(eds);
  EXPECT_EQ(eds->names, (std::vector<std::string>{kCache, kDb}));
  EXPECT_TRUE(eventually([&] { return metrics_.acks.load() >= 3; }));
  EXPECT_EQ(client_->stats().connected.load(), 1);
  EXPECT_EQ(client_->stats().nacks_sent.load(), 0u);

  // An update: db grows to five endpoints.
  source_.push(setOf(tcpWithDb(5), 2));
  ASSERT_TRUE(eventually([&] { return dbEndpoints() == 5; }));
  EXPECT_EQ(client_->versions().at(std::string(kEndpointType)), "2");

  // A bad one: db's cluster carries a certificate that does not parse.
  auto bad = std::make_shared<trellis::xds::ResourceSet>(*setOf(tcpWithDb(5), 3));
  auto placeholder = testing::generateSet(gen::tcpSidecar());
  bad->by_type[std::string(kClusterType)][kDb] =
      placeholder->by_type.find(kClusterType)->second.at(kDb);
  const auto before = latest();
  source_.push(bad);
  ASSERT_TRUE(eventually([&] { return metrics_.nacks.load() == 1; }));
  EXPECT_EQ(client_->stats().nacks_sent.load(), 1u);
  EXPECT_NE(client_->lastNackReason().find("cluster " + kDb), std::string::npos);
  EXPECT_EQ(latest(), before);
  EXPECT_EQ(client_->current()->clusters.at(kDb).tls_material.cert_chain_pem, pki().leaf_chain_pem);

  // The agent restarts on the same port: the proxy keeps its config, then reconnects and
  // picks up what changed meanwhile.
  const int port = server_->port();
  server_->stop();
  server_.reset();
  ASSERT_TRUE(eventually([&] { return client_->stats().connected.load() == 0; }));
  EXPECT_EQ(client_->current()->clusters.at(kDb).endpoints.size(), 5u);
  source_.push(setOf(tcpWithDb(2), 4));
  startServer("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(eventually([&] { return dbEndpoints() == 2; }));
  EXPECT_GE(client_->stats().reconnects.load(), 1u);
  EXPECT_EQ(client_->stats().connected.load(), 1);
  EXPECT_TRUE(fullyConfigured());
}

TEST_F(XdsClientTest, SdsSubscriptionsFollowReferences) {
  source_.push(setOf(tcpWithDb(3, true), 1));
  startClient();
  ASSERT_TRUE(eventually([&] { return fullyConfigured(); }));
  auto c = latest();
  EXPECT_EQ(c->clusters.at(kDb).tls_material.cert_chain_pem, pki().leaf_chain_pem);
  EXPECT_EQ(c->listeners.at("public_listener:0.0.0.0:21000").tls_material.trusted_ca_pem,
            pki().root_pem);
  auto sds = source_.lastInterest(kSecretType);
  ASSERT_TRUE(sds);
  EXPECT_EQ(sds->names, (std::vector<std::string>{"ca_roots", "leaf:web"}));

  // cache goes away: its cluster, listener and EDS subscription follow.
  auto snap = tcpWithDb(3, true);
  snap.upstreams.erase(snap.upstreams.begin());
  source_.push(setOf(snap, 2));
  ASSERT_TRUE(eventually([&] {
    auto l = latest();
    return l->clusters.size() == 2 && l->listeners.size() == 2;
  }));
  ASSERT_TRUE(eventually([&] {
    auto eds = source_.lastInterest(kEndpointType);
    return eds && eds->names == std::vector<std::string>{kDb};
  }));
  EXPECT_EQ(client_->stats().nacks_sent.load(), 0u);
}

// Records the metadata of each stream and ends it at once with UNAVAILABLE.
// A real gRPC server on 127.0.0.1 playing the agent, and client options pointing at it.
std::unique_ptr<grpc::Server> startGrpcServer(grpc::Service& service, int& port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  return builder.BuildAndStart();
}

XdsClientOptions optionsFor(int port) {
  XdsClientOptions options;
  options.target = "127.0.0.1:" + std::to_string(port);
  options.node_id = "x";
  return options;
}

// The same, reconnecting within tens of milliseconds.
XdsClientOptions fastRetry(int port) {
  XdsClientOptions options = optionsFor(port);
  options.initial_backoff = 10ms;
  options.max_backoff = 20ms;
  return options;
}

class MetadataRecorder final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                          envoy::service::discovery::v3::DeltaDiscoveryResponse>*
  DeltaAggregatedResources(grpc::CallbackServerContext* context) override {
    {
      std::lock_guard lock(mu_);
      for (const auto& [k, v] : context->client_metadata()) {
        metadata_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
    }
    class Done
        : public grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                                         envoy::service::discovery::v3::DeltaDiscoveryResponse> {
     public:
      Done() { Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "recorded")); }
      void OnDone() override { delete this; }
    };
    return new Done();
  }
  std::multimap<std::string, std::string> metadata() {
    std::lock_guard lock(mu_);
    return metadata_;
  }

 private:
  std::mutex mu_;
  std::multimap<std::string, std::string> metadata_;
};

TEST(XdsClientTokenTest, SendsTheTokenAsMetadata) {
  MetadataRecorder service;
  int port = 0;
  auto server = startGrpcServer(service, port);
  ASSERT_TRUE(server);
  XdsClientOptions options = optionsFor(port);
  options.token = "c0ffee";
  XdsClient client(options, [](ProxyConfigPtr) {});
  client.start();
  ASSERT_TRUE(eventually([&] { return service.metadata().contains("x-consul-token"); }));
  EXPECT_EQ(service.metadata().find("x-consul-token")->second, "c0ffee");
  client.stop();
  server->Shutdown();
}

TEST(XdsClientStopTest, StopsWhileTheAgentIsUnreachable) {
  XdsClientOptions options;
  options.target = "127.0.0.1:1";  // nothing listens there
  options.node_id = "x";
  options.initial_backoff = 10ms;
  options.max_backoff = 40ms;
  XdsClient client(options, [](ProxyConfigPtr) {});
  client.start();
  ASSERT_TRUE(eventually([&] { return client.stats().reconnects.load() >= 3; }));
  client.stop();
  EXPECT_EQ(client.stats().connected.load(), 0);
  EXPECT_EQ(client.current()->generation, 0u);
}

int threadCount() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (auto* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

TEST(XdsClientThreadTest, RunsOnOneThreadOfItsOwn) {
  XdsClientOptions options = fastRetry(1);  // nothing listens there
  XdsClient client(options, [](ProxyConfigPtr) {});
  const int before = threadCount();
  client.start();
  ASSERT_TRUE(eventually([&] { return client.stats().reconnects.load() >= 3; }));
  EXPECT_LE(threadCount() - before, 1);
  client.stop();
  client.stop();  // idempotent
}

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

// Answers the first request of each stream with an empty cluster response, then ends the stream
// with a non-zero grpc-status in the trailers.
class AnswerThenFail final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>* DeltaAggregatedResources(
      grpc::CallbackServerContext*) override {
    streams_.fetch_add(1);
    class Reactor : public grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
     public:
      Reactor() {
        response_.set_type_url(std::string(kClusterType));
        response_.set_system_version_info("1");
        response_.set_nonce("n1");
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) return Finish(grpc::Status::CANCELLED);
        StartWrite(&response_);
      }
      void OnWriteDone(bool ok) override {
        Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "100% busy: try later"));
      }
      void OnDone() override { delete this; }

     private:
      DeltaDiscoveryRequest request_;
      DeltaDiscoveryResponse response_;
    };
    return new Reactor();
  }
  std::atomic<int> streams_{0};
};

TEST(XdsClientTrailersTest, ReconnectsAfterANonZeroGrpcStatus) {
  AnswerThenFail service;
  int port = 0;
  auto server = startGrpcServer(service, port);
  ASSERT_TRUE(server);
  XdsClientOptions options = fastRetry(port);
  XdsClient client(options, [](ProxyConfigPtr) {});
  client.start();
  ASSERT_TRUE(eventually([&] { return service.streams_.load() >= 3; }));
  EXPECT_GE(client.stats().reconnects.load(), 2u);
  EXPECT_GE(client.stats().updates_applied.load(), 2u);  // each stream's response was applied
  EXPECT_EQ(client.stats().protocol_errors.load(), 0u);
  client.stop();
  EXPECT_EQ(client.stats().connected.load(), 0);
  server->Shutdown();
}

// A hand-written HTTP/2 server: on each connection it reads the client's preface and frames up to
// its request HEADERS, answers with SETTINGS, a 200 application/grpc HEADERS and `data` as one
// DATA frame on stream 1, then half-closes the connection or holds it open until the client
// leaves.
class ScriptedH2Server {
 public:
  ScriptedH2Server(std::string data, bool close_after)
      : data_(std::move(data)), close_(close_after) {
    listen_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_, 16);
    socklen_t len = sizeof(addr);
    getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedH2Server() {
    stop_ = true;
    thread_.join();
    close(listen_);
  }
  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  static std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
    std::string f;
    f.push_back(static_cast<char>(payload.size() >> 16));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size()));
    f.push_back(static_cast<char>(type));
    f.push_back(static_cast<char>(flags));
    for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>(stream >> shift));
    f.append(payload);
    return f;
  }
  // HPACK: ":status: 200" from the static table, then content-type as a literal.
  static std::string responseHeaders() {
    std::string block = "\x88";
    block += '\x00';
    block += static_cast<char>(12);
    block += "content-type";
    block += static_cast<char>(16);
    block += "application/grpc";
    return block;
  }

  // Waits up to 2 s for `n` bytes.
  bool readExactly(int fd, size_t n, std::string& out) {
    out.clear();
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (out.size() < n) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) {
        if (std::chrono::steady_clock::now() > deadline || stop_) return false;
        continue;
      }
      char buf[4096];
      ssize_t r = ::read(fd, buf, std::min(sizeof(buf), n - out.size()));
      if (r <= 0) return false;
      out.append(buf, r);
    }
    return true;
  }

  void serve(int fd) {
    std::string bytes;
    if (!readExactly(fd, 24, bytes)) return;  // "PRI * HTTP/2.0..."
    for (;;) {
      if (!readExactly(fd, 9, bytes)) return;
      const size_t length =
          (uint8_t(bytes[0]) << 16) | (uint8_t(bytes[1]) << 8) | uint8_t(bytes[2]);
      const uint8_t type = bytes[3];
      std::string payload;
      if (length > 0 && !readExactly(fd, length, payload)) return;
      if (type == 0x1) break;  // the request HEADERS
    }
    const std::string out =
        frame(0x4, 0, 0, "") + frame(0x1, 0x4, 1, responseHeaders()) + frame(0x0, 0, 1, data_);
    if (::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return;
    // Either half-close at once (the client reads what was sent, then EOF) or hold the
    // connection; both until the client closes its side.
    if (close_) shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        char buf[4096];
        if (::read(fd, buf, sizeof(buf)) <= 0) return;
      }
    }
  }

  void run() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_, nullptr, nullptr);
      if (fd < 0) continue;
      connections_.fetch_add(1);
      serve(fd);
      close(fd);
    }
  }

  const std::string data_;
  const bool close_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

std::string grpcPrefix(uint32_t length) {
  std::string p(1, '\0');
  for (int shift : {24, 16, 8, 0}) p.push_back(static_cast<char>(length >> shift));
  return p;
}

TEST(XdsClientScriptedTest, ReconnectsWhenTheAgentClosesMidMessage) {
  ScriptedH2Server server(grpcPrefix(1000) + std::string(10, 'x'), /*close_after=*/true);
  XdsClientOptions options = fastRetry(server.port());
  XdsClient client(options, [](ProxyConfigPtr) {});
  client.start();
  ASSERT_TRUE(eventually([&] { return server.connections() >= 3; }));
  EXPECT_GE(client.stats().reconnects.load(), 2u);
  EXPECT_EQ(client.stats().updates_applied.load(), 0u);
  EXPECT_EQ(client.stats().connected.load(), 0);
  client.stop();
}

TEST(XdsClientScriptedTest, EndsTheStreamOnAMessageOverTheBound) {
  // The prefix announces 4 KiB against a 1 KiB bound; the server then holds the connection
  // open, so only the client's own check can end the stream.
  ScriptedH2Server server(grpcPrefix(4096) + std::string(100, 'x'), /*close_after=*/false);
  XdsClientOptions options = fastRetry(server.port());
  options.max_message_bytes = 1024;
  XdsClient client(options, [](ProxyConfigPtr) {});
  client.start();
  ASSERT_TRUE(eventually([&] { return client.stats().protocol_errors.load() >= 2; }));
  EXPECT_GE(server.connections(), 2);
  EXPECT_GE(client.stats().reconnects.load(), 1u);
  EXPECT_EQ(client.stats().updates_applied.load(), 0u);
  client.stop();
}

TEST(XdsClientScriptedTest, EndsTheStreamOnAnUndecodableMessage) {
  ScriptedH2Server server(grpcPrefix(3) + "\xff\xff\xff", /*close_after=*/false);
  XdsClientOptions options = fastRetry(server.port());
  XdsClient client(options, [](ProxyConfigPtr) {});
  client.start();
  ASSERT_TRUE(eventually([&] { return client.stats().protocol_errors.load() >= 1; }));
  EXPECT_EQ(client.stats().updates_applied.load(), 0u);
  client.stop();
}

}  // namespace
}  // namespace trellis::proxy::xds
