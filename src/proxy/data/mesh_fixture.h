#pragma once
// A two-sidecar mesh on 127.0.0.1 for the integration tests: web's sidecar (client side: plain in,
// mTLS out) and db's sidecar (server side: mTLS in, RBAC, plain out to an echo server).

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "proxy/data/data_plane.h"
#include "proxy/data/mux_frame.h"
#include "proxy/data/test_support.h"

namespace trellis::proxy::data::testing {

inline constexpr char kCluster1[] = "11111111-2222-3333-4444-555555555555";
inline constexpr char kCluster2[] = "99999999-8888-7777-6666-555555555555";

inline Principal svcRegex(const std::string& svc) {
  return {Principal::Kind::kUriRegex, "^spiffe://[^/]+/ns/default/dc/[^/]+/svc/" + svc + "$", {}};
}
inline Rbac allowOnly(const std::string& svc) {
  return Rbac{Rbac::Action::kAllow, {{"consul-intentions-layer4", {svcRegex(svc)}}}, "rbac"};
}
inline Rbac denyOnly(const std::string& svc) {
  return Rbac{Rbac::Action::kDeny, {{"consul-intentions-layer4", {svcRegex(svc)}}}, "rbac"};
}

class MeshTest : public ::testing::Test {
 protected:
  static constexpr char kPublic[] = "public_listener";
  static constexpr char kUpstream[] = "db";

  void SetUp() override {
    ASSERT_TRUE(pki_.ok());
    db_leaf_ = pki_.leaf("db");
    web_leaf_ = pki_.leaf("web");
    server_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2});
    client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2});
  }

  // Both sides with or without trellis-mux/1 (on by default).
  void useMux(bool on) {
    server_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2, .mux = on});
    client_ = std::make_unique<DataPlane>(DataPlaneOptions{.workers = 2, .mux = on});
  }
  void slowReaderStaysBounded(size_t server_bound);
  double sequentialConnectionRate(int n);

  Listener publicListener(const TlsMaterial& leaf, std::optional<Rbac> rbac) {
    Listener l;
    l.name = kPublic;
    l.address = "127.0.0.1";
    l.port = 0;
    l.direction = Listener::Direction::kInbound;
    l.tls = true;
    l.require_client_certificate = true;
    l.tls_material = leaf;
    l.trust_domains = {pki_.td()};
    if (rbac) {
      l.has_rbac = true;
      l.rbac = *rbac;
    }
    l.cluster = "local_app";
    return l;
  }

  ProxyConfigPtr serverConfig(const TlsMaterial& leaf, std::optional<Rbac> rbac,
                              std::vector<Endpoint> app = {}) {
    auto c = std::make_shared<ProxyConfig>();
    c->generation = ++server_gen_;
    Listener l = publicListener(leaf, std::move(rbac));
    if (listener_tweak_) listener_tweak_(l);
    c->listeners[l.name] = l;
    Cluster app_cluster;
    app_cluster.name = "local_app";
    app_cluster.endpoints = app.empty() ? std::vector<Endpoint>{{"127.0.0.1", echo_.port()}} : app;
    c->clusters[app_cluster.name] = app_cluster;
    return c;
  }

  ProxyConfigPtr clientConfig(const TlsMaterial& leaf, std::vector<std::string> expected = {}) {
    auto c = std::make_shared<ProxyConfig>();
    c->generation = ++client_gen_;
    Listener l;
    l.name = kUpstream;
    l.address = "127.0.0.1";
    l.direction = Listener::Direction::kOutbound;
    l.cluster = pki_.sni("db");
    c->listeners[l.name] = l;
    Cluster db;
    db.name = pki_.sni("db");
    db.tls = true;
    db.tls_material = leaf;
    db.sni = pki_.sni("db");
    db.expected_sans = expected.empty() ? std::vector<std::string>{pki_.uri("db")} : expected;
    db.endpoints = {{"127.0.0.1", server_->listenerPort(kPublic)}};
    c->clusters[db.name] = db;
    return c;
  }

  // Applies both sides with default identities and the given server RBAC.
  void startMesh(std::optional<Rbac> rbac = std::nullopt) {
    ASSERT_TRUE(server_->apply(serverConfig(db_leaf_, rbac)).isOk());
    ASSERT_NE(server_->listenerPort(kPublic), 0);
    ASSERT_TRUE(client_->apply(clientConfig(web_leaf_)).isOk());
    ASSERT_NE(client_->listenerPort(kUpstream), 0);
  }

  const ListenerStats& serverStats() { return *server_->stats().listenerOrNull(kPublic); }
  const ClusterStats& clientCluster() { return *client_->stats().clusterOrNull(pki_.sni("db")); }

  Pki pki_{kCluster1};
  EchoServer echo_;
  TlsMaterial db_leaf_;
  TlsMaterial web_leaf_;
  std::function<void(Listener&)> listener_tweak_;
  uint64_t server_gen_ = 0;
  uint64_t client_gen_ = 0;
  std::unique_ptr<DataPlane> server_;
  std::unique_ptr<DataPlane> client_;
};

}  // namespace trellis::proxy::data::testing
