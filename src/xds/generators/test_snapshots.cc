#include "xds/generators/test_snapshots.h"

namespace trellis::xds::testing {

namespace {

std::string pem(const std::string& kind, const std::string& body) {
  return "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----\n";
}

std::shared_ptr<const proxycfg::CaRoots> roots() {
  auto r = std::make_shared<proxycfg::CaRoots>();
  r->trust_domain = kTrustDomain;
  r->root_pems = {pem("CERTIFICATE", "ROOT-ACTIVE"), pem("CERTIFICATE", "ROOT-OLD")};
  r->active_root_id = "aa:bb";
  r->index = 5;
  return r;
}

std::shared_ptr<const proxycfg::LeafCert> leaf(const std::string& service,
                                               const std::string& serial) {
  auto l = std::make_shared<proxycfg::LeafCert>();
  l->cert_pem =
      pem("CERTIFICATE", "LEAF-" + service + "-" + serial) + pem("CERTIFICATE", "INTERMEDIATE");
  l->key_pem = pem("EC PRIVATE KEY", "KEY-" + service + "-" + serial);
  l->serial = serial;
  l->index = 6;
  return l;
}

proxycfg::ConfigSnapshot sidecarBase(const std::string& service, const std::string& protocol) {
  proxycfg::ConfigSnapshot s;
  s.proxy_id = service + "-sidecar-proxy";
  s.service = service;
  s.service_id = service;
  s.datacenter = "dc1";
  s.public_port = 21000;
  s.local_service_port = 8080;
  s.local_connect_timeout_ms = 2500;
  s.protocol = protocol;
  s.roots = roots();
  s.leaf = leaf(service, "01");
  s.index = 42;
  return s;
}

}  // namespace

std::shared_ptr<const proxycfg::EndpointSet> endpointSet(const std::string& service,
                                                         const std::string& dc, int count,
                                                         uint32_t base_port) {
  auto set = std::make_shared<proxycfg::EndpointSet>();
  set->service = service;
  set->datacenter = dc;
  for (int i = 0; i < count; ++i) {
    proxycfg::Endpoint ep;
    ep.address = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    ep.port = base_port + static_cast<uint32_t>(i);
    ep.node = "node-" + std::to_string(i);
    ep.service_id = service + "-sidecar-proxy-" + std::to_string(i);
    set->endpoints.push_back(ep);
  }
  set->index = 7;
  return set;
}

proxycfg::UpstreamSnapshot upstream(const std::string& id, const std::string& service,
                                    const std::string& dc, uint32_t bind_port,
                                    std::shared_ptr<const proxycfg::EndpointSet> endpoints) {
  proxycfg::UpstreamSnapshot u;
  u.id = id;
  u.destination_name = service;
  u.datacenter = dc;
  u.bind_port = bind_port;
  u.cluster_name = service + ".default." + dc + ".internal." + kTrustDomain;
  u.spiffe_id =
      std::string("spiffe://") + kTrustDomain + "/ns/default/dc/" + dc + "/svc/" + service;
  u.endpoints = std::move(endpoints);
  return u;
}

intentions::Intention intention(const std::string& src, const std::string& dst,
                                const std::string& action) {
  intentions::Intention ixn;
  ixn.source_name = src;
  ixn.destination_name = dst;
  ixn.action = action;
  ixn.precedence = intentions::computePrecedence("default", src, "default", dst);
  return ixn;
}

proxycfg::ConfigSnapshot tcpSidecar() {
  auto s = sidecarBase("web", "tcp");
  auto db = std::make_shared<proxycfg::EndpointSet>(*endpointSet("db", "dc1", 3));
  db->endpoints[1].healthy = false;  // a critical check
  db->endpoints[2].weight = 3;       // Weights.Passing
  auto cache = std::make_shared<proxycfg::EndpointSet>(*endpointSet("cache", "dc2", 2, 22000));
  cache->endpoints[0].weight = 0;  // Weights.Warning = 0 while warning: no traffic
  s.upstreams.push_back(upstream("cache?dc=dc2", "cache", "dc2", 9292, cache));
  s.upstreams.push_back(upstream("db", "db", "dc1", 9191, db));
  s.upstreams[0].connect_timeout_ms = 1500;
  auto ixns = std::make_shared<proxycfg::Intentions>();
  ixns->default_allow = true;
  ixns->sorted.push_back(intention("evil", "web", "deny"));
  ixns->sorted.push_back(intention("*", "web", "allow"));
  s.intentions = ixns;
  return s;
}

proxycfg::ConfigSnapshot defaultDenySidecar() {
  auto s = tcpSidecar();
  auto ixns = std::make_shared<proxycfg::Intentions>();
  ixns->default_allow = false;
  ixns->sorted.push_back(intention("admin", "web", "allow"));  // 9
  ixns->sorted.push_back(intention("legacy", "web", "deny"));  // 9
  auto l7 = intention("metrics", "web", "");                   // 9, L7: a deny on tcp
  l7.permissions.push_back({"allow", model::IntentionHttpMatch{"", "/metrics", "", {}, {}}, {}});
  ixns->sorted.push_back(l7);
  ixns->sorted.push_back(intention("*", "web", "allow"));   // 8
  ixns->sorted.push_back(intention("admin", "*", "deny"));  // 6: same source as above, dropped
  ixns->sorted.push_back(intention("*", "*", "deny"));      // 5: covered by the default
  s.intentions = ixns;
  return s;
}

proxycfg::ConfigSnapshot httpSidecar() {
  auto s = sidecarBase("api", "http");
  s.upstreams.push_back(
      upstream("billing", "billing", "dc1", 9393, endpointSet("billing", "dc1", 2)));
  s.upstreams.back().protocol = "http";
  s.upstreams.push_back(upstream("ledger", "ledger", "dc1", 9494, endpointSet("ledger", "dc1", 1)));
  s.upstreams.back().protocol = "grpc";
  auto ixns = std::make_shared<proxycfg::Intentions>();
  ixns->default_allow = false;
  auto web = intention("web", "api", "");
  model::IntentionHttpMatch admin{"", "/admin", "", {}, {}};
  model::IntentionHttpMatch reads{"", "/", "", {}, {"GET", "HEAD"}};
  reads.headers.push_back({"x-debug", false, "", "", "", "", true});
  reads.headers[0].present = true;
  web.permissions.push_back({"deny", admin, {}});
  web.permissions.push_back({"allow", reads, {}});
  ixns->sorted.push_back(web);
  ixns->sorted.push_back(intention("*", "api", "allow"));
  s.intentions = ixns;
  return s;
}

proxycfg::ConfigSnapshot sdsSidecar(const std::string& leaf_serial) {
  auto s = tcpSidecar();
  s.use_sds = true;
  s.leaf = leaf("web", leaf_serial);
  return s;
}

proxycfg::ConfigSnapshot proxyless() {
  proxycfg::ConfigSnapshot s;
  s.kind = proxycfg::ProxyKind::kProxyless;
  s.proxy_id = "grpc-client-1";
  s.datacenter = "dc1";
  auto db = std::make_shared<proxycfg::EndpointSet>(*endpointSet("db", "dc1", 2, 8080));
  db->endpoints[0].healthy = false;
  s.upstreams.push_back(upstream("cache", "cache", "dc1", 0, endpointSet("cache", "dc1", 1, 9000)));
  s.upstreams.push_back(upstream("db", "db", "dc1", 0, db));
  s.proxyless_services = {"cache", "db", "unknown"};
  s.index = 9;
  return s;
}

proxycfg::ConfigSnapshot wideSidecar(int upstreams, int endpoints) {
  auto s = tcpSidecar();
  s.upstreams.clear();
  for (int i = 0; i < upstreams; ++i) {
    std::string svc = "svc" + std::to_string(i);
    s.upstreams.push_back(upstream(svc, svc, "dc1", 9000 + i, endpointSet(svc, "dc1", endpoints)));
  }
  return s;
}

}  // namespace trellis::xds::testing
