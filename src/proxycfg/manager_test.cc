#include "proxycfg/manager.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace trellis::proxycfg {
namespace {

namespace asio = boost::asio;

class ManagerTest : public ::testing::Test {
 protected:
  ManagerTest() {
    node("local", "10.0.0.1");
    node("n2", "10.0.0.2");
    node("n3", "10.0.0.3");
    auto roots = std::make_shared<CaRoots>();
    roots->trust_domain = "11111111-2222-3333-4444-555555555555.consul";
    roots->root_pems = {"ROOT-PEM"};
    roots->active_root_id = "root-1";
    roots->index = 3;
    roots_ = roots;
  }

  void node(const std::string& name, const std::string& addr) {
    pb::Node n;
    n.set_node(name);
    n.set_address(addr);
    ASSERT_TRUE(store_.ensureNode(++idx_, n).ok());
  }

  void proxy(const std::string& node, const std::string& id, const std::string& dest, int port,
             std::vector<std::pair<std::string, int>> upstreams = {}) {
    pb::Service s;
    s.set_node(node);
    s.set_id(id);
    s.set_service(dest + "-sidecar-proxy");
    s.set_kind("connect-proxy");
    s.set_port(port);
    s.mutable_proxy()->set_destination_service_name(dest);
    s.mutable_proxy()->set_destination_service_id(dest);
    s.mutable_proxy()->set_local_service_port(8080);
    for (auto& [name, bind] : upstreams) {
      pb::Upstream* u = s.mutable_proxy()->add_upstreams();
      u->set_destination_name(name);
      u->set_local_bind_port(bind);
    }
    ASSERT_TRUE(store_.ensureService(++idx_, s).ok());
  }

  void service(const std::string& node, const std::string& id, const std::string& name, int port) {
    pb::Service s;
    s.set_node(node);
    s.set_id(id);
    s.set_service(name);
    s.set_port(port);
    ASSERT_TRUE(store_.ensureService(++idx_, s).ok());
  }

  void check(const std::string& node, const std::string& id, const std::string& service_id,
             const std::string& status) {
    pb::Check c;
    c.set_node(node);
    c.set_check_id(id);
    c.set_name(id);
    c.set_service_id(service_id);
    c.set_status(status);
    ASSERT_TRUE(store_.ensureCheck(++idx_, c).ok());
  }

  std::unique_ptr<Manager> makeManager() {
    ManagerConfig cfg;
    cfg.node = "local";
    cfg.coalesce = std::chrono::milliseconds(1);
    return std::make_unique<Manager>(
        io_, store_, cfg,
        [this](std::string service) -> asio::awaitable<Result<std::shared_ptr<const LeafCert>>> {
          ++leaf_calls_;
          auto leaf = std::make_shared<LeafCert>();
          leaf->cert_pem = "LEAF-" + service;
          leaf->key_pem = "KEY";
          leaf->serial = "1";
          leaf->index = 4;
          co_return std::shared_ptr<const LeafCert>(leaf);
        },
        [this] { return roots_; }, [] { return intentions::IntentionSet::build({}); });
  }

  void run() {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(60));
  }

  asio::io_context io_;
  state::Store store_;
  uint64_t idx_ = 0;
  std::shared_ptr<const CaRoots> roots_;
  int leaf_calls_ = 0;
};

TEST_F(ManagerTest, SidecarSnapshotCarriesUpstreamEndpointsAndHealth) {
  proxy("local", "web-sidecar-proxy", "web", 21000, {{"db", 9191}});
  proxy("n2", "db-sidecar-proxy", "db", 21001);
  proxy("n3", "db-sidecar-proxy", "db", 21002);
  check("n3", "db-alias", "db-sidecar-proxy", "critical");
  auto m = makeManager();
  std::vector<std::shared_ptr<const ConfigSnapshot>> got;
  m->add("web-sidecar-proxy", [&](auto s) { got.push_back(s); });
  run();
  ASSERT_EQ(got.size(), 1u);
  const ConfigSnapshot& s = *got[0];
  EXPECT_EQ(s.kind, ProxyKind::kSidecar);
  EXPECT_EQ(s.service, "web");
  EXPECT_EQ(s.public_port, 21000u);
  EXPECT_EQ(s.public_bind_address, "0.0.0.0");
  EXPECT_EQ(s.local_service_port, 8080u);
  EXPECT_EQ(s.leaf->cert_pem, "LEAF-web");
  ASSERT_EQ(s.upstreams.size(), 1u);
  const UpstreamSnapshot& u = s.upstreams[0];
  EXPECT_EQ(u.id, "db");
  EXPECT_EQ(u.bind_port, 9191u);
  EXPECT_EQ(u.cluster_name, "db.default.dc1.internal." + roots_->trust_domain);
  EXPECT_EQ(u.spiffe_id, "spiffe://" + roots_->trust_domain + "/ns/default/dc/dc1/svc/db");
  ASSERT_EQ(u.endpoints->endpoints.size(), 2u);
  EXPECT_EQ(u.endpoints->endpoints[0].address, "10.0.0.2");
  EXPECT_EQ(u.endpoints->endpoints[0].port, 21001u);
  EXPECT_TRUE(u.endpoints->endpoints[0].healthy);
  EXPECT_FALSE(u.endpoints->endpoints[1].healthy);

  // A health flip republishes with a new endpoint set; everything else is the same object.
  check("n3", "db-alias", "db-sidecar-proxy", "passing");
  run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[1]->upstreams[0].endpoints->endpoints[1].healthy);
  EXPECT_EQ(got[1]->leaf, got[0]->leaf);
  EXPECT_EQ(got[1]->intentions, got[0]->intentions);

  // A write that changes nothing the proxy sees publishes nothing.
  service("n2", "unrelated", "other", 1);
  run();
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(ManagerTest, ProxiesSharingAnUpstreamShareOneEndpointSet) {
  for (int i = 0; i < 50; ++i) {
    proxy("local", "p" + std::to_string(i), "web", 21000 + i, {{"db", 9191}});
  }
  proxy("n2", "db-sidecar-proxy", "db", 21001);
  auto m = makeManager();
  std::vector<std::shared_ptr<const ConfigSnapshot>> got;
  for (int i = 0; i < 50; ++i) {
    m->add("p" + std::to_string(i), [&](auto s) { got.push_back(s); });
  }
  run();
  ASSERT_EQ(got.size(), 50u);
  for (const auto& s : got) EXPECT_EQ(s->upstreams[0].endpoints, got[0]->upstreams[0].endpoints);
  EXPECT_LE(leaf_calls_, 2);  // one destination service: one fetch (plus at most a recheck)

  // One flip, many writes in a burst: one pass, 50 publications.
  uint64_t passes = m->passes();
  check("n2", "c1", "db-sidecar-proxy", "critical");
  check("n2", "c2", "db-sidecar-proxy", "critical");
  check("n2", "c3", "db-sidecar-proxy", "critical");
  run();
  EXPECT_EQ(m->passes(), passes + 1);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_FALSE(got[99]->upstreams[0].endpoints->endpoints[0].healthy);
}

TEST_F(ManagerTest, UnknownIdIsProxylessAndFollowsRequestedNames) {
  service("n2", "echo-1", "echo", 5001);
  service("n3", "echo-2", "echo", 5002);
  check("n3", "echo-2-ttl", "echo-2", "critical");
  auto m = makeManager();
  std::vector<std::shared_ptr<const ConfigSnapshot>> got;
  uint64_t id = m->add("grpc-client-1", [&](auto s) { got.push_back(s); });
  m->setProxylessNames(id, {"echo"});
  run();
  ASSERT_FALSE(got.empty());
  const ConfigSnapshot& s = *got.back();
  EXPECT_EQ(s.kind, ProxyKind::kProxyless);
  ASSERT_EQ(s.upstreams.size(), 1u);
  ASSERT_EQ(s.upstreams[0].endpoints->endpoints.size(), 2u);
  EXPECT_EQ(s.upstreams[0].endpoints->endpoints[0].port, 5001u);
  EXPECT_TRUE(s.upstreams[0].endpoints->endpoints[0].healthy);
  EXPECT_FALSE(s.upstreams[0].endpoints->endpoints[1].healthy);
  EXPECT_EQ(s.proxyless_services, std::vector<std::string>{"echo"});
}

TEST_F(ManagerTest, NothingPublishedBeforeTheCaIsReady) {
  roots_ = nullptr;
  proxy("local", "web-sidecar-proxy", "web", 21000);
  auto m = makeManager();
  int calls = 0;
  m->add("web-sidecar-proxy", [&](auto) { ++calls; });
  run();
  EXPECT_EQ(calls, 0);
}

TEST_F(ManagerTest, RemovedWatchGetsNoMoreSnapshots) {
  proxy("local", "web-sidecar-proxy", "web", 21000, {{"db", 9191}});
  auto m = makeManager();
  int calls = 0;
  uint64_t id = m->add("web-sidecar-proxy", [&](auto) { ++calls; });
  run();
  EXPECT_EQ(calls, 1);
  m->remove(id);
  proxy("n2", "db-sidecar-proxy", "db", 21001);
  run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(m->watchCount(), 0u);
}

}  // namespace
}  // namespace trellis::proxycfg
