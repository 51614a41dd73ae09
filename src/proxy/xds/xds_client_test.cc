// XdsClient against the real ADS server on 127.0.0.1, fed by a fake SnapshotSource that serves
// the generators' output: ACK, updates, NACK, EDS/SDS subscriptions, server restart.
#include "proxy/xds/xds_client.h"

#include <gtest/gtest.h>

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
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  XdsClientOptions options;
  options.target = "127.0.0.1:" + std::to_string(port);
  options.node_id = "x";
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

}  // namespace
}  // namespace trellis::proxy::xds
