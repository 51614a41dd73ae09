#include <algorithm>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "xds/generators/common.h"
#include "xds/generators/generators.h"
#include "xds/generators/proto_util.h"

namespace trellis::xds {

namespace {

// Envoy accepts weights 1..128 here (Consul's clamp). A zero weight means the operator wants no
// traffic on the instance: report it unhealthy rather than send weight 0, which Envoy rejects.
constexpr uint32_t kMaxWeight = 128;

// One locality carrying a load_balancing_weight: gRPC's xDS client ignores localities without.
ResourcePtr buildLoadAssignment(const proxycfg::EndpointSet& set, const std::string& cluster) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(cluster);
  auto* locality = cla.add_endpoints();
  locality->mutable_locality();
  locality->mutable_load_balancing_weight()->set_value(1);
  locality->mutable_lb_endpoints()->Reserve(static_cast<int>(set.endpoints.size()));
  for (const auto& ep : set.endpoints) {
    auto* lb = locality->add_lb_endpoints();
    auto* addr = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
    addr->set_address(ep.address);
    addr->set_port_value(ep.port);
    bool healthy = ep.healthy && ep.weight > 0;
    lb->set_health_status(healthy ? envoy::config::core::v3::HEALTHY
                                  : envoy::config::core::v3::UNHEALTHY);
    lb->mutable_load_balancing_weight()->set_value(std::clamp<uint32_t>(ep.weight, 1, kMaxWeight));
  }
  return makeMessageResource(cluster, cla);
}

void addAssignment(TypeResources& out, const proxycfg::UpstreamSnapshot& up,
                   LoadAssignmentCache* cache) {
  if (out.contains(up.cluster_name)) return;
  ResourcePtr res = cache == nullptr ? buildLoadAssignment(*up.endpoints, up.cluster_name)
                                     : cache->getOrBuild(up.endpoints, up.cluster_name, [&] {
                                         return buildLoadAssignment(*up.endpoints, up.cluster_name);
                                       });
  out.emplace(up.cluster_name, std::move(res));
}

}  // namespace

TypeResources generateEndpoints(const proxycfg::ConfigSnapshot& snap, LoadAssignmentCache* cache) {
  TypeResources out;
  if (!isComplete(snap)) return out;
  if (snap.kind == proxycfg::ProxyKind::kProxyless) {
    for (const auto& name : snap.proxyless_services) {
      if (const auto* up = findProxylessUpstream(snap, name)) addAssignment(out, *up, cache);
    }
    return out;
  }
  for (const auto& up : snap.upstreams) addAssignment(out, up, cache);
  return out;
}

}  // namespace trellis::xds
