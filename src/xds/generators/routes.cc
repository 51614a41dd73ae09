#include "xds/generators/routes.h"

#include "xds/generators/common.h"
#include "xds/generators/generators.h"
#include "xds/generators/proto_util.h"

namespace trellis::xds {

envoy::config::route::v3::RouteConfiguration singleRouteConfig(const std::string& name,
                                                               std::string_view prefix,
                                                               const std::string& cluster) {
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name(name);
  auto* vh = rc.add_virtual_hosts();
  vh->set_name(name);
  vh->add_domains()->push_back('*');  // assigning "*" trips a GCC 12 -Wrestrict false positive
  auto* route = vh->add_routes();
  route->mutable_match()->set_prefix(std::string(prefix));
  route->mutable_route()->set_cluster(cluster);
  return rc;
}

// Only the default route of each HTTP-family upstream: routers, splitters and resolvers
// (discovery chains) are not compiled yet.
TypeResources generateRoutes(const proxycfg::ConfigSnapshot& snap) {
  TypeResources out;
  if (snap.kind != proxycfg::ProxyKind::kSidecar || !isComplete(snap)) return out;
  for (const auto& up : snap.upstreams) {
    if (!isHttpProtocol(up.protocol) || out.contains(up.id)) continue;
    out.emplace(up.id, makeMessageResource(up.id, singleRouteConfig(up.id, "/", up.cluster_name)));
  }
  return out;
}

}  // namespace trellis::xds
