#include "xds/generators/generators.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/generators/proto_util.h"
#include "xds/generators/test_snapshots.h"

namespace trellis::xds {
namespace {

namespace pb = google::protobuf;
using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
namespace tls = envoy::extensions::transport_sockets::tls::v3;

std::unique_ptr<pb::Message> newMessage(std::string_view type_url) {
  std::string name(type_url.substr(type_url.rfind('/') + 1));
  const pb::Descriptor* d = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (d == nullptr) return nullptr;
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

// Every resource as JSON (keys sorted), after checking that its bytes parse and re-serialise to
// the same bytes and that every Any inside resolves (the JSON printer fails otherwise).
nlohmann::json render(const ResourceSet& set) {
  nlohmann::json out = nlohmann::json::object();
  pb::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  for (const auto& [type, resources] : set.by_type) {
    for (const auto& [name, res] : resources) {
      auto msg = newMessage(type);
      EXPECT_NE(msg, nullptr) << type;
      if (!msg) continue;
      EXPECT_TRUE(msg->ParseFromString(res->body)) << name;
      EXPECT_EQ(deterministicBytes(*msg), res->body) << "round trip of " << name;
      EXPECT_EQ(res->name, name);
      std::string json;
      auto st = pb::util::MessageToJsonString(*msg, &json, opts);
      EXPECT_TRUE(st.ok()) << name << ": " << st.ToString();
      std::string short_type(type.substr(type.rfind('.') + 1));
      out[short_type][name] = {{"version", res->version},
                               {"resource", nlohmann::json::parse(json)}};
    }
  }
  return out;
}

void expectGolden(const std::string& file, const proxycfg::ConfigSnapshot& snap) {
  auto set = generate(snap);
  ASSERT_TRUE(set->complete);
  std::string got = render(*set).dump(2) + "\n";
  std::string path = std::string(TRELLIS_XDS_TESTDATA) + "/" + file;
  const char* update = std::getenv("TRELLIS_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << got;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path << " missing; run with TRELLIS_UPDATE_GOLDEN=1";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << file << " differs; rerun with TRELLIS_UPDATE_GOLDEN=1 to update";
}

TEST(GeneratorsGoldenTest, TcpSidecar) { expectGolden("tcp_sidecar.json", testing::tcpSidecar()); }
TEST(GeneratorsGoldenTest, DefaultDeny) {
  expectGolden("default_deny.json", testing::defaultDenySidecar());
}
TEST(GeneratorsGoldenTest, HttpSidecar) {
  expectGolden("http_sidecar.json", testing::httpSidecar());
}
TEST(GeneratorsGoldenTest, Sds) { expectGolden("sds_sidecar.json", testing::sdsSidecar()); }
TEST(GeneratorsGoldenTest, Proxyless) { expectGolden("proxyless.json", testing::proxyless()); }

template <typename T>
T parse(const TypeResources& resources, const std::string& name) {
  T msg;
  auto it = resources.find(name);
  EXPECT_NE(it, resources.end()) << name;
  if (it != resources.end()) {
    EXPECT_TRUE(msg.ParseFromString(it->second->body));
  }
  return msg;
}

template <typename T>
T unpack(const pb::Any& any) {
  T msg;
  EXPECT_TRUE(any.UnpackTo(&msg)) << any.type_url();
  return msg;
}

std::vector<std::string> names(const TypeResources& r) {
  std::vector<std::string> out;
  for (const auto& [name, res] : r) out.push_back(name);
  return out;
}

const std::string kDbCluster = std::string("db.default.dc1.internal.") + testing::kTrustDomain;
const std::string kCacheCluster =
    std::string("cache.default.dc2.internal.") + testing::kTrustDomain;

TEST(GeneratorsTest, SidecarResourceNames) {
  auto snap = testing::tcpSidecar();
  EXPECT_EQ(names(generateListeners(snap)),
            (std::vector<std::string>{"cache?dc=dc2:127.0.0.1:9292", "db:127.0.0.1:9191",
                                      "public_listener:0.0.0.0:21000"}));
  EXPECT_EQ(names(generateClusters(snap)),
            (std::vector<std::string>{kCacheCluster, kDbCluster, "local_app"}));
  EXPECT_EQ(names(generateEndpoints(snap)), (std::vector<std::string>{kCacheCluster, kDbCluster}));
  EXPECT_TRUE(generateRoutes(snap).empty());
  EXPECT_TRUE(generateSecrets(snap).empty());
}

TEST(GeneratorsTest, PublicListenerRequiresClientCertAndEnforcesIntentions) {
  auto snap = testing::tcpSidecar();
  auto l = parse<Listener>(generateListeners(snap), "public_listener:0.0.0.0:21000");
  EXPECT_EQ(l.traffic_direction(), envoy::config::core::v3::INBOUND);
  EXPECT_EQ(l.address().socket_address().port_value(), 21000u);
  ASSERT_EQ(l.filter_chains_size(), 1);
  const auto& chain = l.filter_chains(0);
  auto ctx = unpack<tls::DownstreamTlsContext>(chain.transport_socket().typed_config());
  EXPECT_TRUE(ctx.require_client_certificate().value());
  EXPECT_EQ(ctx.common_tls_context().tls_certificates(0).certificate_chain().inline_string(),
            snap.leaf->cert_pem);
  EXPECT_EQ(ctx.common_tls_context().tls_certificates(0).private_key().inline_string(),
            snap.leaf->key_pem);
  const std::string& ca =
      ctx.common_tls_context().validation_context().trusted_ca().inline_string();
  EXPECT_NE(ca.find("ROOT-ACTIVE"), std::string::npos);
  EXPECT_NE(ca.find("ROOT-OLD"), std::string::npos);
  ASSERT_EQ(chain.filters_size(), 2);
  EXPECT_EQ(chain.filters(0).name(), "envoy.filters.network.rbac");
  auto rbac =
      unpack<envoy::extensions::filters::network::rbac::v3::RBAC>(chain.filters(0).typed_config());
  EXPECT_EQ(rbac.stat_prefix(), "connect_authz");
  EXPECT_EQ(rbac.rules().action(), envoy::config::rbac::v3::RBAC::DENY);
  const auto& policy = rbac.rules().policies().at("consul-intentions-layer4");
  ASSERT_EQ(policy.principals_size(), 1);
  EXPECT_EQ(policy.principals(0).authenticated().principal_name().safe_regex().regex(),
            std::string("^spiffe://") + testing::kTrustDomain + "/ns/default/dc/[^/]+/svc/evil$");
  auto tcp = unpack<envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy>(
      chain.filters(1).typed_config());
  EXPECT_EQ(tcp.stat_prefix(), "public_listener");
  EXPECT_EQ(tcp.cluster(), "local_app");
}

TEST(GeneratorsTest, UpstreamListenerAndCluster) {
  auto snap = testing::tcpSidecar();
  auto l = parse<Listener>(generateListeners(snap), "db:127.0.0.1:9191");
  EXPECT_EQ(l.traffic_direction(), envoy::config::core::v3::OUTBOUND);
  auto tcp = unpack<envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy>(
      l.filter_chains(0).filters(0).typed_config());
  EXPECT_EQ(tcp.stat_prefix(), "upstream.db.default.default.dc1");
  EXPECT_EQ(tcp.cluster(), kDbCluster);

  auto c = parse<Cluster>(generateClusters(snap), kDbCluster);
  EXPECT_EQ(c.type(), Cluster::EDS);
  EXPECT_EQ(c.alt_stat_name(), kDbCluster);
  EXPECT_TRUE(c.eds_cluster_config().eds_config().has_ads());
  EXPECT_TRUE(c.common_lb_config().has_healthy_panic_threshold());
  EXPECT_EQ(c.common_lb_config().healthy_panic_threshold().value(), 0);
  EXPECT_EQ(c.connect_timeout().seconds(), 5);
  auto ctx = unpack<tls::UpstreamTlsContext>(c.transport_socket().typed_config());
  EXPECT_EQ(ctx.sni(), kDbCluster);
  const auto& san = ctx.common_tls_context().validation_context().match_typed_subject_alt_names(0);
  EXPECT_EQ(san.san_type(), tls::SubjectAltNameMatcher::URI);
  EXPECT_EQ(san.matcher().exact(),
            std::string("spiffe://") + testing::kTrustDomain + "/ns/default/dc/dc1/svc/db");

  auto cache = parse<Cluster>(generateClusters(snap), kCacheCluster);
  EXPECT_EQ(cache.connect_timeout().nanos(), 500000000);

  auto local = parse<Cluster>(generateClusters(snap), "local_app");
  EXPECT_EQ(local.type(), Cluster::STATIC);
  EXPECT_EQ(local.connect_timeout().seconds(), 2);
  EXPECT_EQ(local.load_assignment()
                .endpoints(0)
                .lb_endpoints(0)
                .endpoint()
                .address()
                .socket_address()
                .port_value(),
            8080u);
}

TEST(GeneratorsTest, EndpointHealthAndWeights) {
  auto snap = testing::tcpSidecar();
  auto eps = generateEndpoints(snap);
  auto db = parse<ClusterLoadAssignment>(eps, kDbCluster);
  ASSERT_EQ(db.endpoints_size(), 1);
  EXPECT_EQ(db.endpoints(0).load_balancing_weight().value(), 1u);
  const auto& lbs = db.endpoints(0).lb_endpoints();
  ASSERT_EQ(lbs.size(), 3);
  EXPECT_EQ(lbs[0].health_status(), envoy::config::core::v3::HEALTHY);
  EXPECT_EQ(lbs[1].health_status(), envoy::config::core::v3::UNHEALTHY);
  EXPECT_EQ(lbs[2].load_balancing_weight().value(), 3u);
  EXPECT_EQ(lbs[0].endpoint().address().socket_address().address(), "10.0.0.1");
  // Weight 0 (warning weight) => unhealthy with the minimum weight Envoy accepts.
  auto cache = parse<ClusterLoadAssignment>(eps, kCacheCluster);
  EXPECT_EQ(cache.endpoints(0).lb_endpoints(0).health_status(), envoy::config::core::v3::UNHEALTHY);
  EXPECT_EQ(cache.endpoints(0).lb_endpoints(0).load_balancing_weight().value(), 1u);
}

TEST(GeneratorsTest, HttpSidecarUsesConnectionManagers) {
  auto snap = testing::httpSidecar();
  auto listeners = generateListeners(snap);
  auto pub = parse<Listener>(listeners, "public_listener:0.0.0.0:21000");
  const auto& filters = pub.filter_chains(0).filters();
  ASSERT_EQ(filters.size(), 1);
  auto hcm = unpack<HttpConnectionManager>(filters[0].typed_config());
  ASSERT_EQ(hcm.http_filters_size(), 2);
  EXPECT_EQ(hcm.http_filters(0).name(), "envoy.filters.http.rbac");
  EXPECT_EQ(hcm.http_filters(1).name(), "envoy.filters.http.router");
  EXPECT_EQ(hcm.route_config().virtual_hosts(0).routes(0).route().cluster(), "local_app");
  auto rbac =
      unpack<envoy::extensions::filters::http::rbac::v3::RBAC>(hcm.http_filters(0).typed_config());
  EXPECT_TRUE(rbac.rules().policies().contains("consul-intentions-layer7-0"));

  auto out = parse<Listener>(listeners, "billing:127.0.0.1:9393");
  auto out_hcm = unpack<HttpConnectionManager>(out.filter_chains(0).filters(0).typed_config());
  EXPECT_EQ(out_hcm.rds().route_config_name(), "billing");
  EXPECT_TRUE(out_hcm.rds().config_source().has_ads());
  auto grpc = parse<Listener>(listeners, "ledger:127.0.0.1:9494");
  EXPECT_TRUE(unpack<HttpConnectionManager>(grpc.filter_chains(0).filters(0).typed_config())
                  .has_http2_protocol_options());

  auto routes = generateRoutes(snap);
  EXPECT_EQ(names(routes), (std::vector<std::string>{"billing", "ledger"}));
  auto rc = parse<envoy::config::route::v3::RouteConfiguration>(routes, "billing");
  EXPECT_EQ(rc.virtual_hosts(0).domains(0), "*");
  EXPECT_EQ(rc.virtual_hosts(0).routes(0).route().cluster(),
            std::string("billing.default.dc1.internal.") + testing::kTrustDomain);
}

TEST(GeneratorsTest, SdsLeafRotationChangesOnlyTheSecret) {
  auto a = generate(testing::sdsSidecar("01"));
  auto b = generate(testing::sdsSidecar("02"));
  for (auto type : {kListenerType, kClusterType, kEndpointType}) {
    const auto& ra = a->by_type.find(type)->second;
    const auto& rb = b->by_type.find(type)->second;
    ASSERT_EQ(names(ra), names(rb));
    for (const auto& [name, res] : ra) EXPECT_EQ(res->version, rb.at(name)->version) << name;
  }
  const auto& sa = a->by_type.find(kSecretType)->second;
  const auto& sb = b->by_type.find(kSecretType)->second;
  EXPECT_EQ(names(sa), (std::vector<std::string>{"ca_roots", "leaf:web"}));
  EXPECT_NE(sa.at("leaf:web")->version, sb.at("leaf:web")->version);
  EXPECT_EQ(sa.at("ca_roots")->version, sb.at("ca_roots")->version);

  auto secret = parse<tls::Secret>(sb, "leaf:web");
  EXPECT_NE(secret.tls_certificate().certificate_chain().inline_string().find("LEAF-web-02"),
            std::string::npos);
  // The contexts name the secrets instead of carrying them.
  auto c = parse<Cluster>(b->by_type.find(kClusterType)->second, kDbCluster);
  auto ctx = unpack<tls::UpstreamTlsContext>(c.transport_socket().typed_config());
  EXPECT_EQ(ctx.common_tls_context().tls_certificates_size(), 0);
  EXPECT_EQ(ctx.common_tls_context().tls_certificate_sds_secret_configs(0).name(), "leaf:web");
  EXPECT_TRUE(
      ctx.common_tls_context().tls_certificate_sds_secret_configs(0).sds_config().has_ads());
  EXPECT_EQ(ctx.common_tls_context()
                .combined_validation_context()
                .validation_context_sds_secret_config()
                .name(),
            "ca_roots");
}

TEST(GeneratorsTest, InlineLeafRotationChangesListenersAndClusters) {
  auto a = testing::tcpSidecar();
  auto b = a;
  b.leaf = testing::sdsSidecar("02").leaf;
  auto ca = generateClusters(a), cb = generateClusters(b);
  EXPECT_NE(ca.at(kDbCluster)->version, cb.at(kDbCluster)->version);
  EXPECT_EQ(ca.at("local_app")->version, cb.at("local_app")->version);
}

TEST(GeneratorsTest, ProxylessListenerClusterAndEndpoints) {
  auto snap = testing::proxyless();
  auto set = generate(snap);
  ASSERT_TRUE(set->complete);
  EXPECT_FALSE(set->by_type.contains(kRouteType));
  EXPECT_FALSE(set->by_type.contains(kSecretType));
  const auto& listeners = set->by_type.find(kListenerType)->second;
  EXPECT_EQ(names(listeners), (std::vector<std::string>{"cache", "db"}));  // unknown skipped
  auto l = parse<Listener>(listeners, "db");
  EXPECT_EQ(l.filter_chains_size(), 0);
  auto hcm = unpack<HttpConnectionManager>(l.api_listener().api_listener());
  const auto& vh = hcm.route_config().virtual_hosts(0);
  EXPECT_EQ(vh.domains(0), "*");
  EXPECT_EQ(vh.routes(0).match().prefix(), "");
  EXPECT_TRUE(vh.routes(0).match().has_prefix());
  EXPECT_EQ(vh.routes(0).route().cluster(), kDbCluster);
  ASSERT_GE(hcm.http_filters_size(), 1);
  EXPECT_EQ(hcm.http_filters(hcm.http_filters_size() - 1).name(), "envoy.filters.http.router");
  EXPECT_TRUE(hcm.http_filters(0)
                  .typed_config()
                  .Is<envoy::extensions::filters::http::router::v3::Router>());

  auto c = parse<Cluster>(set->by_type.find(kClusterType)->second, kDbCluster);
  EXPECT_EQ(c.type(), Cluster::EDS);
  EXPECT_FALSE(c.has_transport_socket());
  auto cla = parse<ClusterLoadAssignment>(set->by_type.find(kEndpointType)->second, kDbCluster);
  EXPECT_EQ(cla.endpoints(0).load_balancing_weight().value(), 1u);
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(0).health_status(), envoy::config::core::v3::UNHEALTHY);
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(1).endpoint().address().socket_address().port_value(),
            8081u);
}

TEST(GeneratorsTest, IncompleteSnapshotYieldsNothing) {
  auto snap = testing::tcpSidecar();
  snap.leaf.reset();
  auto set = generate(snap);
  EXPECT_FALSE(set->complete);
  EXPECT_TRUE(set->by_type.empty());
  EXPECT_TRUE(generateListeners(snap).empty());
  auto snap2 = testing::proxyless();
  snap2.upstreams[0].endpoints.reset();
  EXPECT_FALSE(generate(snap2)->complete);
}

TEST(GeneratorsTest, Deterministic) {
  auto a = generate(testing::defaultDenySidecar());
  auto b = generate(testing::defaultDenySidecar());
  for (const auto& [type, resources] : a->by_type) {
    for (const auto& [name, res] : resources) {
      EXPECT_EQ(res->body, b->by_type.at(type).at(name)->body) << name;
    }
  }
}

TEST(LoadAssignmentCacheTest, SharedSetBuiltOnce) {
  LoadAssignmentCache cache;
  auto snap = testing::tcpSidecar();
  auto first = generateEndpoints(snap, &cache);
  auto second = generateEndpoints(snap, &cache);
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(first.at(kDbCluster).get(), second.at(kDbCluster).get());  // same object
  EXPECT_EQ(first.at(kDbCluster)->body, generateEndpoints(snap).at(kDbCluster)->body);
}

TEST(LoadAssignmentCacheTest, NewSetIsNotConfusedWithFreedOne) {
  LoadAssignmentCache cache;
  auto snap = testing::tcpSidecar();
  auto before = generateEndpoints(snap, &cache).at(kDbCluster);
  // Replace db's set with a different one (the old one is freed; its address may be reused).
  auto changed = std::make_shared<proxycfg::EndpointSet>(*snap.upstreams[1].endpoints);
  changed->endpoints[0].healthy = false;
  snap.upstreams[1].endpoints = changed;
  auto after = generateEndpoints(snap, &cache).at(kDbCluster);
  EXPECT_NE(before->body, after->body);
  EXPECT_EQ(after->body, generateEndpoints(snap).at(kDbCluster)->body);
}

TEST(LoadAssignmentCacheTest, ConcurrentCallersAgree) {
  LoadAssignmentCache cache;
  const auto snap = testing::wideSidecar(5, 10);
  const auto want = generateEndpoints(snap);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto got = generateEndpoints(snap, &cache);
        for (const auto& [name, res] : want) {
          if (got.at(name)->body != res->body) ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(cache.size(), 5u);
  EXPECT_EQ(cache.hits() + cache.misses(), 4u * 200 * 5);
}

TEST(LoadAssignmentCacheTest, PrunesExpiredSets) {
  LoadAssignmentCache cache(4);
  for (int i = 0; i < 20; ++i) {
    auto set = testing::endpointSet("s", "dc1", 1);
    cache.getOrBuild(set, "c", [] { return makeResource("c", "x"); });
  }
  EXPECT_LE(cache.size(), 5u);
}

}  // namespace
}  // namespace trellis::xds
