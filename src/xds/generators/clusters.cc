#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "xds/generators/common.h"
#include "xds/generators/generators.h"
#include "xds/generators/proto_util.h"
#include "xds/generators/tls.h"

namespace trellis::xds {

namespace {

using envoy::config::cluster::v3::Cluster;

void setTimeout(Cluster& c, uint32_t ms) {
  c.mutable_connect_timeout()->set_seconds(ms / 1000);
  c.mutable_connect_timeout()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
}

// An EDS cluster fed over ADS. `healthy_panic_threshold` 0 disables panic routing, so Envoy
// never sends traffic to endpoints reported UNHEALTHY even when none is healthy (Consul).
Cluster edsCluster(const proxycfg::UpstreamSnapshot& up) {
  Cluster c;
  c.set_name(up.cluster_name);
  c.set_alt_stat_name(up.cluster_name);
  c.set_type(Cluster::EDS);
  setAdsSource(*c.mutable_eds_cluster_config()->mutable_eds_config());
  setTimeout(c, up.connect_timeout_ms);
  c.mutable_common_lb_config()->mutable_healthy_panic_threshold()->set_value(0);
  return c;
}

// The deprecated Cluster field, because the HttpProtocolOptions extension is not in the compiled
// API subset; Envoy still honours it.
void enableHttp2(Cluster& c) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  c.mutable_http2_protocol_options();
#pragma GCC diagnostic pop
}

Cluster localAppCluster(const proxycfg::ConfigSnapshot& snap) {
  Cluster c;
  c.set_name(std::string(kLocalAppCluster));
  c.set_type(Cluster::STATIC);
  setTimeout(c, snap.local_connect_timeout_ms);
  auto& cla = *c.mutable_load_assignment();
  cla.set_cluster_name(std::string(kLocalAppCluster));
  auto* addr = cla.add_endpoints()
                   ->add_lb_endpoints()
                   ->mutable_endpoint()
                   ->mutable_address()
                   ->mutable_socket_address();
  addr->set_address(snap.local_service_address);
  addr->set_port_value(snap.local_service_port);
  if (isHttp2Protocol(snap.protocol)) enableHttp2(c);
  return c;
}

}  // namespace

TypeResources generateClusters(const proxycfg::ConfigSnapshot& snap) {
  TypeResources out;
  if (!isComplete(snap)) return out;
  if (snap.kind == proxycfg::ProxyKind::kProxyless) {
    for (const auto& name : snap.proxyless_services) {
      const auto* up = findProxylessUpstream(snap, name);
      if (up == nullptr || out.contains(up->cluster_name)) continue;
      out.emplace(up->cluster_name, makeMessageResource(up->cluster_name, edsCluster(*up)));
    }
    return out;
  }
  out.emplace(kLocalAppCluster,
              makeMessageResource(std::string(kLocalAppCluster), localAppCluster(snap)));
  for (const auto& up : snap.upstreams) {
    if (out.contains(up.cluster_name)) continue;  // two upstreams, one target
    Cluster c = edsCluster(up);
    c.mutable_circuit_breakers();
    c.mutable_outlier_detection();
    if (isHttp2Protocol(up.protocol)) enableHttp2(c);
    *c.mutable_transport_socket() = upstreamTlsSocket(snap, up);
    out.emplace(up.cluster_name, makeMessageResource(up.cluster_name, c));
  }
  return out;
}

}  // namespace trellis::xds
