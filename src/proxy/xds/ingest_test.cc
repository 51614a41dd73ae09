// Ingest fed with the generators' real output (with real certificates swapped in).
#include "proxy/xds/ingest.h"

#include <gtest/gtest.h>

#include <envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h>

#include "proxy/xds/pem.h"
#include "proxy/xds/testing/snapshots.h"
#include "proxy/xds/testing/test_pki.h"
#include "xds/generators/test_snapshots.h"

namespace trellis::proxy::xds {
namespace {

using testing::DeltaResponse;
using testing::responseFor;
namespace gen = trellis::xds::testing;

const std::string kTd = gen::kTrustDomain;
const std::string kDb = "db.default.dc1.internal." + kTd;
const std::string kCache = "cache.default.dc2.internal." + kTd;
const std::string kPublic = "public_listener:0.0.0.0:21000";
const std::string kDbListener = "db:127.0.0.1:9191";

std::string spiffe(const std::string& dc, const std::string& svc) {
  return "spiffe://" + kTd + "/ns/default/dc/" + dc + "/svc/" + svc;
}

const testing::TestPki& pki() {
  static const testing::TestPki p = testing::makeTestPki(spiffe("dc1", "web"));
  return p;
}

ProxyConfigPtr applyOk(Ingest& ingest, const DeltaResponse& r) {
  auto result = ingest.apply(r);
  EXPECT_TRUE(result) << r.type_url() << ": " << result.status().message();
  return result ? *result : nullptr;
}

const std::string& body(const trellis::xds::ResourceSet& set, std::string_view type,
                        const std::string& name) {
  return set.by_type.find(type)->second.at(name)->body;
}

// Applies clusters, endpoints, secrets and listeners in the server's order.
ProxyConfigPtr applyAll(Ingest& ingest, const trellis::xds::ResourceSet& set) {
  applyOk(ingest, responseFor(set, kClusterType));
  applyOk(ingest, responseFor(set, kEndpointType));
  if (set.by_type.contains(kSecretType)) applyOk(ingest, responseFor(set, kSecretType));
  return applyOk(ingest, responseFor(set, kListenerType));
}

TEST(IngestTest, TcpSidecar) {
  Ingest ingest;
  auto set = testing::generateSet(testing::withCerts(gen::tcpSidecar(), pki()));
  auto config = applyAll(ingest, *set);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->generation, 3u);
  ASSERT_EQ(config->listeners.size(), 3u);
  ASSERT_EQ(config->clusters.size(), 3u);
  EXPECT_EQ(config->versions.size(), 3u);
  EXPECT_EQ(config->versions.at(std::string(kListenerType)), "1");

  const Listener& pub = config->listeners.at(kPublic);
  EXPECT_EQ(pub.address, "0.0.0.0");
  EXPECT_EQ(pub.port, 21000);
  EXPECT_EQ(pub.direction, Listener::Direction::kInbound);
  EXPECT_TRUE(pub.tls);
  EXPECT_TRUE(pub.require_client_certificate);
  EXPECT_EQ(pub.tls_material.cert_chain_pem, pki().leaf_chain_pem);
  EXPECT_EQ(pub.tls_material.private_key_pem, pki().leaf_key_pem);
  EXPECT_EQ(pub.tls_material.trusted_ca_pem, pki().root_pem);
  EXPECT_TRUE(pub.trust_domains.empty());  // this root names no trust domain: chain check only
  EXPECT_EQ(pub.cluster, "local_app");
  EXPECT_EQ(pub.stat_prefix, "public_listener");
  ASSERT_TRUE(pub.has_rbac);
  EXPECT_EQ(pub.rbac.action, Rbac::Action::kDeny);
  EXPECT_EQ(pub.rbac.stat_prefix, "connect_authz");
  ASSERT_EQ(pub.rbac.policies.size(), 1u);
  EXPECT_EQ(pub.rbac.policies[0].name, "consul-intentions-layer4");
  ASSERT_EQ(pub.rbac.policies[0].principals.size(), 1u);
  EXPECT_EQ(pub.rbac.policies[0].principals[0].kind, Principal::Kind::kUriRegex);
  EXPECT_EQ(pub.rbac.policies[0].principals[0].pattern,
            "^spiffe://" + kTd + "/ns/default/dc/[^/]+/svc/evil$");

  const Listener& db = config->listeners.at(kDbListener);
  EXPECT_EQ(db.direction, Listener::Direction::kOutbound);
  EXPECT_EQ(db.address, "127.0.0.1");
  EXPECT_EQ(db.port, 9191);
  EXPECT_FALSE(db.tls);
  EXPECT_FALSE(db.has_rbac);
  EXPECT_EQ(db.cluster, kDb);
  EXPECT_EQ(db.stat_prefix, "upstream.db.default.default.dc1");

  const Cluster& app = config->clusters.at("local_app");
  EXPECT_FALSE(app.eds);
  EXPECT_FALSE(app.tls);
  EXPECT_EQ(app.connect_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(app.endpoints, (std::vector<Endpoint>{{"127.0.0.1", 8080, true, 1}}));

  const Cluster& dbc = config->clusters.at(kDb);
  EXPECT_TRUE(dbc.eds);
  EXPECT_TRUE(dbc.tls);
  EXPECT_EQ(dbc.sni, kDb);
  EXPECT_EQ(dbc.expected_sans, std::vector<std::string>{spiffe("dc1", "db")});
  EXPECT_EQ(dbc.tls_material.cert_chain_pem, pki().leaf_chain_pem);
  EXPECT_EQ(dbc.tls_material.trusted_ca_pem, pki().root_pem);
  EXPECT_EQ(dbc.connect_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(dbc.endpoints, (std::vector<Endpoint>{{"10.0.0.1", 21000, true, 1},
                                                  {"10.0.0.2", 21001, false, 1},
                                                  {"10.0.0.3", 21002, true, 3}}));
  const Cluster& cache = config->clusters.at(kCache);
  EXPECT_EQ(cache.connect_timeout, std::chrono::milliseconds(1500));
  ASSERT_EQ(cache.endpoints.size(), 2u);
  EXPECT_FALSE(cache.endpoints[0].healthy);  // Weights.Warning 0
  EXPECT_TRUE(cache.endpoints[1].healthy);

  EXPECT_EQ(ingest.wantedAssignments(), (std::set<std::string>{kCache, kDb}));
  EXPECT_TRUE(ingest.wantedSecrets().empty());
  EXPECT_EQ(ingest.resourceVersions(kClusterType).size(), 3u);
}

TEST(IngestTest, DefaultDenyRbac) {
  Ingest ingest;
  auto set = testing::generateSet(testing::withCerts(gen::defaultDenySidecar(), pki()));
  auto config = applyAll(ingest, *set);
  ASSERT_TRUE(config);
  const Rbac& rbac = config->listeners.at(kPublic).rbac;
  EXPECT_EQ(rbac.action, Rbac::Action::kAllow);
  ASSERT_EQ(rbac.policies.size(), 1u);
  const auto& principals = rbac.policies[0].principals;
  ASSERT_EQ(principals.size(), 2u);
  EXPECT_EQ(principals[0].kind, Principal::Kind::kUriRegex);
  const Principal& wildcard = principals[1];
  EXPECT_EQ(wildcard.kind, Principal::Kind::kAnd);
  ASSERT_EQ(wildcard.ids.size(), 4u);
  EXPECT_EQ(wildcard.ids[0].pattern, "^spiffe://" + kTd + "/ns/default/dc/[^/]+/svc/[^/]+$");
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(wildcard.ids[i].kind, Principal::Kind::kNot);
    ASSERT_EQ(wildcard.ids[i].ids.size(), 1u);
    EXPECT_EQ(wildcard.ids[i].ids[0].kind, Principal::Kind::kUriRegex);
  }
}

TEST(IngestTest, SdsSecretsWarmClustersAndListeners) {
  Ingest ingest;
  auto set = testing::generateSet(testing::withCerts(gen::sdsSidecar(), pki()));
  auto config = applyOk(ingest, responseFor(*set, kClusterType));
  // Only local_app is ready: the upstreams wait for their assignments and secrets.
  EXPECT_EQ(config->clusters.size(), 1u);
  EXPECT_EQ(ingest.wantedSecrets(), (std::set<std::string>{"ca_roots", "leaf:web"}));
  config = applyOk(ingest, responseFor(*set, kEndpointType));
  EXPECT_EQ(config->clusters.size(), 1u);
  config = applyOk(ingest, responseFor(*set, kListenerType));
  // Every listener waits: the public one for its secrets, the upstream ones for their clusters.
  EXPECT_TRUE(config->listeners.empty());
  config = applyOk(ingest, responseFor(*set, kSecretType));
  ASSERT_EQ(config->clusters.size(), 3u);
  ASSERT_EQ(config->listeners.size(), 3u);
  const Cluster& db = config->clusters.at(kDb);
  EXPECT_EQ(db.tls_material.cert_chain_pem, pki().leaf_chain_pem);
  EXPECT_EQ(db.tls_material.trusted_ca_pem, pki().root_pem);
  EXPECT_EQ(db.expected_sans, std::vector<std::string>{spiffe("dc1", "db")});
  EXPECT_EQ(config->listeners.at(kPublic).tls_material.private_key_pem, pki().leaf_key_pem);

  // Rotation: a new leaf reaches every user of the secret.
  auto next = testing::makeTestPki(spiffe("dc1", "web"));
  auto rotated = testing::generateSet(testing::withCerts(gen::sdsSidecar("02"), next));
  config = applyOk(ingest, responseFor(*rotated, kSecretType, "2"));
  EXPECT_EQ(config->clusters.at(kDb).tls_material.cert_chain_pem, next.leaf_chain_pem);
  EXPECT_EQ(config->listeners.at(kPublic).tls_material.cert_chain_pem, next.leaf_chain_pem);

  // A referenced secret that disappears leaves the last material in force.
  DeltaResponse removal;
  removal.set_type_url(std::string(kSecretType));
  removal.add_removed_resources("leaf:web");
  config = applyOk(ingest, removal);
  EXPECT_EQ(config->clusters.at(kDb).tls_material.cert_chain_pem, next.leaf_chain_pem);
}

// An upstream listener opens only once its cluster is ready (here: has its endpoints), so a
// sidecar never accepts a connection it can only drop; the public listener does not wait.
TEST(IngestTest, ListenersWaitForTheirClusters) {
  Ingest ingest;
  auto set = testing::generateSet(testing::withCerts(gen::tcpSidecar(), pki()));
  applyOk(ingest, responseFor(*set, kClusterType));
  auto config = applyOk(ingest, responseFor(*set, kListenerType));
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->listeners.contains(kPublic));
  EXPECT_FALSE(config->listeners.contains(kDbListener));
  config = applyOk(ingest, responseFor(*set, kEndpointType));
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->listeners.contains(kDbListener));
  EXPECT_EQ(config->listeners.size(), 3u);
}

class IngestRejectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_ = testing::generateSet(testing::withCerts(gen::tcpSidecar(), pki()));
    good_ = applyAll(ingest_, *set_);
    ASSERT_TRUE(good_);
  }
  // The update is rejected with a reason containing `reason` and nothing changes.
  void expectRejected(const DeltaResponse& r, const std::string& reason) {
    const auto before = ingest_.resourceVersions(r.type_url());
    auto result = ingest_.apply(r);
    ASSERT_FALSE(result);
    EXPECT_NE(result.status().message().find(reason), std::string::npos)
        << result.status().message();
    EXPECT_EQ(result.status().message().find('\n'), std::string::npos);
    EXPECT_EQ(ingest_.current(), good_);
    EXPECT_EQ(ingest_.resourceVersions(r.type_url()), before);
  }

  Ingest ingest_;
  trellis::xds::ResourceSetPtr set_;
  ProxyConfigPtr good_;
};

TEST_F(IngestRejectTest, PlaceholderPemKeepsPreviousConfig) {
  auto placeholder = testing::generateSet(gen::tcpSidecar());
  expectRejected(responseFor(*placeholder, kClusterType, "2"), "certificate 1 does not parse");
  expectRejected(responseFor(*placeholder, kListenerType, "2"), "listener public_listener");
}

TEST_F(IngestRejectTest, HttpConnectionManager) {
  auto http = testing::generateSet(testing::withCerts(gen::httpSidecar(), pki()));
  expectRejected(responseFor(*http, kListenerType, "2"),
                 "http_connection_manager not supported by trellis-proxy yet");
}

TEST_F(IngestRejectTest, ListenerNamingUnknownCluster) {
  envoy::config::listener::v3::Listener l;
  l.ParseFromString(body(*set_, kListenerType, kDbListener));
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  l.filter_chains(0).filters(0).typed_config().UnpackTo(&tcp);
  tcp.set_cluster("nope");
  l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(tcp);
  expectRejected(testing::oneResource(kListenerType, kDbListener, l.SerializeAsString()),
                 "listener db:127.0.0.1:9191: unknown cluster nope");
}

TEST_F(IngestRejectTest, BadRegex) {
  envoy::config::listener::v3::Listener l;
  l.ParseFromString(body(*set_, kListenerType, kPublic));
  envoy::extensions::filters::network::rbac::v3::RBAC rbac;
  l.filter_chains(0).filters(0).typed_config().UnpackTo(&rbac);
  auto& policy = (*rbac.mutable_rules()->mutable_policies())["consul-intentions-layer4"];
  policy.mutable_principals(0)
      ->mutable_authenticated()
      ->mutable_principal_name()
      ->mutable_safe_regex()
      ->set_regex("^spiffe://(unclosed$");
  l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(rbac);
  expectRejected(testing::oneResource(kListenerType, kPublic, l.SerializeAsString()),
                 "rbac regex '^spiffe://(unclosed$' rejected");
}

TEST_F(IngestRejectTest, BadEndpoint) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.ParseFromString(body(*set_, kEndpointType, kDb));
  auto* sa = cla.mutable_endpoints(0)
                 ->mutable_lb_endpoints(0)
                 ->mutable_endpoint()
                 ->mutable_address()
                 ->mutable_socket_address();
  sa->set_port_value(0);
  expectRejected(testing::oneResource(kEndpointType, kDb, cla.SerializeAsString()), "bad port 0");
  sa->set_port_value(80);
  sa->set_address("db.example.com");
  expectRejected(testing::oneResource(kEndpointType, kDb, cla.SerializeAsString()),
                 "bad address 'db.example.com': not an IP");
}

TEST_F(IngestRejectTest, GarbageAndMismatches) {
  expectRejected(testing::oneResource(kClusterType, "x", "\xff\xff\xff"), "does not parse");
  auto wrong_type = testing::oneResource(kClusterType, kDb, "");
  wrong_type.mutable_resources(0)->mutable_resource()->set_type_url(std::string(kListenerType));
  expectRejected(wrong_type, "not the response's");
  auto renamed = responseFor(*set_, kClusterType);
  renamed.mutable_resources(0)->set_name("other");
  expectRejected(renamed, "carries");
  DeltaResponse unknown;
  unknown.set_type_url("type.googleapis.com/google.protobuf.Empty");
  expectRejected(unknown, "unsupported type");
}

TEST_F(IngestRejectTest, PreviousConfigStaysAfterRejectionThenAcceptsGood) {
  auto placeholder = testing::generateSet(gen::tcpSidecar());
  ASSERT_FALSE(ingest_.apply(responseFor(*placeholder, kClusterType, "2")));
  auto again = ingest_.apply(responseFor(*set_, kClusterType, "3"));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->generation, good_->generation + 1);
  EXPECT_EQ((*again)->versions.at(std::string(kClusterType)), "3");
}

TEST(IngestTest, RemovalDropsResources) {
  Ingest ingest;
  auto set = testing::generateSet(testing::withCerts(gen::tcpSidecar(), pki()));
  applyAll(ingest, *set);

  DeltaResponse listeners;
  listeners.set_type_url(std::string(kListenerType));
  listeners.add_removed_resources(kDbListener);
  auto config = applyOk(ingest, listeners);
  EXPECT_FALSE(config->listeners.contains(kDbListener));
  EXPECT_EQ(config->listeners.size(), 2u);

  // A removed assignment leaves its cluster without endpoints (the server's "absent").
  DeltaResponse endpoints;
  endpoints.set_type_url(std::string(kEndpointType));
  endpoints.add_removed_resources(kDb);
  config = applyOk(ingest, endpoints);
  EXPECT_TRUE(config->clusters.at(kDb).endpoints.empty());

  DeltaResponse clusters;
  clusters.set_type_url(std::string(kClusterType));
  clusters.add_removed_resources(kDb);
  config = applyOk(ingest, clusters);
  EXPECT_FALSE(config->clusters.contains(kDb));
  EXPECT_EQ(ingest.wantedAssignments(), std::set<std::string>{kCache});
  ingest.forget(kEndpointType, {kDb});
  EXPECT_EQ(ingest.resourceVersions(kEndpointType).size(), 1u);
}

TEST(IngestTest, InboundTrustDomainsComeFromTheRootsSpiffeUri) {
  const auto p = testing::makeTestPki(spiffe("dc1", "web"), "spiffe://" + kTd);
  Ingest ingest;
  auto set = testing::generateSet(testing::withCerts(gen::tcpSidecar(), p));
  auto config = applyAll(ingest, *set);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->listeners.at(kPublic).trust_domains, std::vector<std::string>{kTd});
  EXPECT_TRUE(config->listeners.at(kDbListener).trust_domains.empty());  // outbound

  EXPECT_EQ(spiffeTrustDomains(p.root_pem + p.root_pem), std::vector<std::string>{kTd});
  EXPECT_TRUE(spiffeTrustDomains(p.root_pem +
                                 "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                  .empty());  // a bundle that does not parse names nothing
  EXPECT_TRUE(spiffeTrustDomains("").empty());
}

}  // namespace
}  // namespace trellis::proxy::xds
