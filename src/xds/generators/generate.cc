#include "xds/generators/generators.h"

namespace trellis::xds {

std::string leafSecretName(const proxycfg::ConfigSnapshot& snap) { return "leaf:" + snap.service; }

bool isComplete(const proxycfg::ConfigSnapshot& snap) {
  for (const auto& up : snap.upstreams) {
    if (!up.endpoints) return false;
  }
  if (snap.kind == proxycfg::ProxyKind::kProxyless) return true;
  return snap.roots && snap.leaf && snap.intentions;
}

ResourceSetPtr generate(const proxycfg::ConfigSnapshot& snap, LoadAssignmentCache* cache) {
  auto set = std::make_shared<ResourceSet>();
  set->index = snap.index;
  set->complete = isComplete(snap);
  if (!set->complete) return set;
  auto put = [&set](std::string_view type, TypeResources resources) {
    if (!resources.empty()) set->by_type.emplace(type, std::move(resources));
  };
  put(kClusterType, generateClusters(snap));
  put(kEndpointType, generateEndpoints(snap, cache));
  put(kListenerType, generateListeners(snap));
  put(kRouteType, generateRoutes(snap));
  put(kSecretType, generateSecrets(snap));
  return set;
}

}  // namespace trellis::xds
