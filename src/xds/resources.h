#pragma once
// The unit the ADS server deals in: an immutable set of serialised xDS resources for one client,
// produced by the generators from a ConfigSnapshot. The server diffs successive sets by
// per-resource version (a hash of the serialised bytes) and never looks inside a resource.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace trellis::xds {

inline constexpr std::string_view kListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRouteType =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpointType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kSecretType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

// One resource: `body` is the serialised message of `type_url` (not wrapped in Any).
struct Resource {
  std::string name;
  std::string body;
  std::string version;  // hex hash of body
};
using ResourcePtr = std::shared_ptr<const Resource>;

// Builds a Resource, computing its version from the bytes.
ResourcePtr makeResource(std::string name, std::string body);

// type_url -> name -> resource. Sorted maps make iteration (and so responses) deterministic.
using TypeResources = std::map<std::string, ResourcePtr, std::less<>>;
struct ResourceSet {
  std::map<std::string, TypeResources, std::less<>> by_type;
  uint64_t index = 0;  // snapshot index, used in state-of-the-world version_info
  bool complete = false;  // false until roots, leaf, intentions and endpoints are known
};
using ResourceSetPtr = std::shared_ptr<const ResourceSet>;

// Shares equal resources between clients: many proxies of one service get byte-identical clusters
// (same upstreams, same leaf), so one copy serves them all. Entries are weak: a resource lives
// as long as some client's set holds it. Thread-safe.
class ResourceInterner {
 public:
  // An equal resource already held by someone, or `r` itself (then remembered).
  ResourcePtr intern(const std::string& type_url, ResourcePtr r);
  // Interns every resource of `set` in place.
  void internAll(ResourceSet& set);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const Resource>> map_;
  size_t inserts_since_prune_ = 0;
};

}  // namespace trellis::xds
