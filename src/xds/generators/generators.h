#pragma once
// xDS generators: pure functions from one proxy's ConfigSnapshot to its serialised resources.
// Called by the ADS server (any thread) whenever a snapshot is published; no I/O, no clock.
//
// Sidecars get Consul's resources and names (reference 6.4): `public_listener:<addr>:<port>`
// (mTLS, RBAC from intentions, then tcp_proxy or an HTTP connection manager to `local_app`), one
// `<upstream-id>:<addr>:<port>` listener per upstream, clusters `local_app` and one EDS cluster
// per upstream named by SNI, their ClusterLoadAssignments, and for HTTP-family upstreams a
// RouteConfiguration named `<upstream-id>`. Certificates are inline (Consul's way) unless
// `use_sds`, where TLS contexts name Secrets served over ADS instead (see secretNames below).
// Proxyless gRPC clients get, per requested service, a Listener named exactly `<service>` with
// an api_listener, a plaintext EDS cluster and its endpoints.
//
// An incomplete snapshot (missing roots, leaf, intentions or an upstream's endpoints, as far as
// the proxy kind needs them) yields nothing: generate() returns an empty set with complete=false
// and the per-type functions return empty maps. The ADS server sends nothing until complete.

#include <string>

#include "proxycfg/snapshot.h"
#include "xds/generators/load_assignment_cache.h"
#include "xds/resources.h"

namespace trellis::xds {

inline constexpr std::string_view kLocalAppCluster = "local_app";
inline constexpr std::string_view kRootsSecretName = "ca_roots";
// The leaf's Secret is `leaf:<service>`.
std::string leafSecretName(const proxycfg::ConfigSnapshot& snap);

bool isComplete(const proxycfg::ConfigSnapshot& snap);

// `cache`, when given, memoises ClusterLoadAssignments across snapshots sharing an EndpointSet
// (see load_assignment_cache.h); it must outlive the call. nullptr builds every one afresh.
ResourceSetPtr generate(const proxycfg::ConfigSnapshot& snap, LoadAssignmentCache* cache = nullptr);

TypeResources generateClusters(const proxycfg::ConfigSnapshot& snap);
TypeResources generateEndpoints(const proxycfg::ConfigSnapshot& snap,
                                LoadAssignmentCache* cache = nullptr);
TypeResources generateListeners(const proxycfg::ConfigSnapshot& snap);
TypeResources generateRoutes(const proxycfg::ConfigSnapshot& snap);
TypeResources generateSecrets(const proxycfg::ConfigSnapshot& snap);

}  // namespace trellis::xds
