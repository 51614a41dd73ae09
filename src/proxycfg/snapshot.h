#pragma once
// ConfigSnapshot: everything the xDS generators need to build one proxy's resources, gathered by
// proxycfg from the catalog, the CA, intentions and config entries. Immutable once published and
// shared as std::shared_ptr<const ConfigSnapshot>; the generators are pure functions of it.
//
// Parts that many proxies share (an upstream's endpoints, the roots, the intentions) are held by
// shared_ptr so a health flip builds one EndpointSet, not one per proxy, and generators may memoise
// by pointer.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "intentions/intention.h"

namespace trellis::proxycfg {

// One instance that traffic may go to: for sidecar upstreams the instance's sidecar proxy
// (address = proxy service address, else node address; port = proxy port), for proxyless
// clients the service instance itself.
struct Endpoint {
  std::string address;
  uint32_t port = 0;
  bool healthy = true;  // Consul: any critical check (node, service or proxy) => unhealthy
  uint32_t weight = 1;  // Weights.Passing, or Weights.Warning when an instance check is warning
  std::string node;
  std::string service_id;
};

// Healthy and unhealthy instances of one target (service in a datacenter), in a stable order
// (node, service ID) so equal sets serialise identically.
struct EndpointSet {
  std::string service;
  std::string datacenter;
  std::vector<Endpoint> endpoints;
  uint64_t index = 0;  // catalog index the set was read at
};

struct CaRoots {
  std::string trust_domain;          // "<cluster-id>.consul"
  std::vector<std::string> root_pems;  // every active and previous root, active first
  std::string active_root_id;
  uint64_t index = 0;
};

struct LeafCert {
  std::string cert_pem;  // leaf followed by any intermediates
  std::string key_pem;
  std::string serial;
  uint64_t index = 0;
};

struct Intentions {
  // Intentions whose destination is this proxy's service or `*`, highest precedence first.
  std::vector<intentions::Intention> sorted;
  bool default_allow = true;
  uint64_t index = 0;
};

struct UpstreamSnapshot {
  std::string id;                // "db", "db?dc=dc2" -- listener name prefix and route name
  std::string destination_name;  // service
  std::string datacenter;        // target DC (the local one when the upstream names none)
  std::string bind_address = "127.0.0.1";
  uint32_t bind_port = 0;
  std::string protocol = "tcp";  // tcp | http | http2 | grpc (from upstream Config / defaults)
  uint32_t connect_timeout_ms = 5000;
  std::string cluster_name;      // SNI: <svc>.default.<dc>.internal.<trust-domain>
  std::string spiffe_id;         // expected server identity: spiffe://<td>/ns/default/dc/<dc>/svc/<svc>
  std::shared_ptr<const EndpointSet> endpoints;  // never null once the snapshot is complete
};

enum class ProxyKind {
  kSidecar,    // a registered connect-proxy service; node.id is its service ID
  kProxyless,  // a gRPC client resolving xds:///<service>; no sidecar, no TLS
};

struct ConfigSnapshot {
  ProxyKind kind = ProxyKind::kSidecar;
  std::string proxy_id;      // node.id of the xDS client
  std::string service;       // Proxy.DestinationServiceName: identity for certs and intentions
  std::string service_id;    // Proxy.DestinationServiceID
  std::string datacenter;

  // Inbound (sidecars only).
  std::string public_bind_address = "0.0.0.0";  // Config.bind_address, else service address
  uint32_t public_port = 0;                      // Config.bind_port, else the proxy's Port
  std::string local_service_address = "127.0.0.1";
  uint32_t local_service_port = 0;
  uint32_t local_connect_timeout_ms = 5000;  // Config.local_connect_timeout_ms
  std::string protocol = "tcp";              // Config.protocol, else service-defaults/proxy-defaults

  std::vector<UpstreamSnapshot> upstreams;  // sorted by id

  std::shared_ptr<const CaRoots> roots;
  std::shared_ptr<const LeafCert> leaf;
  std::shared_ptr<const Intentions> intentions;

  // Proxyless clients: the services whose listeners the client asked for (names as requested).
  // Each appears in `upstreams` too, with the instances themselves as endpoints.
  std::vector<std::string> proxyless_services;

  // Serve certificates as SDS secrets (Trellis' proxy) instead of inline (Consul's way, Envoy).
  bool use_sds = false;

  uint64_t index = 0;  // highest input index, for logs and version strings
  // Changes whenever anything other than upstream endpoints changes: a consumer holding the
  // resources of a snapshot with the same `shape` only needs to regenerate endpoints.
  uint64_t shape = 0;
};

}  // namespace trellis::proxycfg
