#pragma once
// Ingest: the accepted xDS resources of one proxy and the ProxyConfig they make. Pure (no I/O, no
// clock, no threads); the XdsClient owns one and calls it under its lock, tests and the fuzz
// target drive it directly.
//
// Each delta response is applied whole or not at all: any resource that does not translate, or
// a listener naming a cluster that is not among the accepted clusters (once any CDS response was
// applied), rejects the response with a one-line reason and leaves everything as it was.
//
// Warming, as Envoy does it: a cluster waits for its ClusterLoadAssignment (EDS; a name the
// server reports as removed counts as an empty assignment) and for the Secrets its TLS context
// names (SDS); a listener waits for its Secrets. Until then the version last published of that
// listener or cluster stays in the ProxyConfig, or it is left out if there was none. A Secret
// that is removed while still referenced therefore keeps the old material in force.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <envoy/service/discovery/v3/discovery.pb.h>

#include "common/status.h"
#include "proxy/config.h"
#include "proxy/xds/translate.h"

namespace trellis::proxy::xds {

inline constexpr std::string_view kListenerType =
    "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kClusterType =
    "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpointType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kSecretType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
inline constexpr std::string_view kRouteType =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

class Ingest {
 public:
  using Response = envoy::service::discovery::v3::DeltaDiscoveryResponse;

  Ingest();

  // Applies one response. On success the new config (generation bumped, versions[type_url] =
  // system_version_info) becomes current(); on failure nothing changes and the status message
  // is the reason to NACK with.
  Result<ProxyConfigPtr> apply(const Response& response);

  // Drops resources the client unsubscribed from (EDS and SDS names no longer referenced). They
  // are unreferenced, so the config does not change.
  void forget(std::string_view type_url, const std::vector<std::string>& names);

  // The last config applied (an empty one, generation 0, before the first).
  const ProxyConfigPtr& current() const { return current_; }

  // What the accepted clusters and listeners reference: the EDS and SDS names to subscribe to.
  std::set<std::string> wantedAssignments() const;
  std::set<std::string> wantedSecrets() const;

  // name -> version of the accepted resources of a type: initial_resource_versions on reconnect.
  std::map<std::string, std::string> resourceVersions(std::string_view type_url) const;

 private:
  template <class T>
  struct Held {
    T parsed;
    std::string version;
  };
  struct State {
    std::map<std::string, Held<ParsedListener>> listeners;
    std::map<std::string, Held<ParsedCluster>> clusters;
    std::map<std::string, Held<ParsedAssignment>> assignments;
    std::set<std::string> absent_assignments;  // removed or reported missing: empty endpoints
    std::map<std::string, Held<ParsedSecret>> secrets;
    std::map<std::string, std::string> routes;  // accepted and ignored: name -> version
    bool clusters_known = false;
    std::map<std::string, std::string> system_versions;
  };

  static Status applyTo(State& state, const Response& response);
  ProxyConfigPtr build(const State& state) const;
  // TLS material with SDS names resolved; false while a named secret is missing.
  static bool resolveTls(const State& state, const TlsRefs& refs, TlsMaterial& out);

  State state_;
  ProxyConfigPtr current_;
};

}  // namespace trellis::proxy::xds
