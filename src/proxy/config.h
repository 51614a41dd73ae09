#pragma once
// trellis-proxy's own configuration model: what the data plane runs, translated from xDS
// resources by src/proxy/xds (ingest) and consumed by src/proxy/data (workers). Plain values, no
// protobuf: the data plane links nothing from Envoy's API or the control plane.
//
// A ProxyConfig is immutable once published and shared as std::shared_ptr<const ProxyConfig>;
// workers pick up a new one between connections (existing connections keep the objects they
// started with, which is what makes a leaf or root rotation hitless).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace trellis::proxy {

// PEM material for one TLS side. `trusted_ca_pems` verifies the peer.
struct TlsMaterial {
  std::string cert_chain_pem;  // leaf first
  std::string private_key_pem;
  std::string trusted_ca_pem;  // every trusted root, concatenated
  bool empty() const { return cert_chain_pem.empty() && trusted_ca_pem.empty(); }
};

// One RBAC principal, the subset Consul generates: an exact/regex match on the peer's URI SAN
// (its SPIFFE ID), `any`, and and/or/not combinations of those.
struct Principal {
  enum class Kind { kAny, kUriRegex, kUriExact, kAnd, kOr, kNot };
  Kind kind = Kind::kAny;
  std::string pattern;           // kUriRegex (RE2/ECMAScript-compatible subset) or kUriExact
  std::vector<Principal> ids;    // kAnd, kOr; kNot has exactly one
};

struct RbacPolicy {
  std::string name;                 // e.g. consul-intentions-layer4
  std::vector<Principal> principals;  // any one matches (permissions are `any` at L4)
};

// Network RBAC: with kAllow, a connection is allowed iff some policy matches; with kDeny, it is
// denied iff some policy matches.
struct Rbac {
  enum class Action { kAllow, kDeny };
  Action action = Action::kAllow;
  std::vector<RbacPolicy> policies;
  std::string stat_prefix;
};

struct Endpoint {
  std::string address;
  uint16_t port = 0;
  bool healthy = true;
  uint32_t weight = 1;
  bool operator==(const Endpoint&) const = default;
};

struct Cluster {
  std::string name;
  enum class LbPolicy { kRoundRobin, kLeastRequest };
  LbPolicy lb = LbPolicy::kRoundRobin;
  std::chrono::milliseconds connect_timeout{5000};
  std::vector<Endpoint> endpoints;  // STATIC clusters carry their own; EDS ones from the CLA
  bool eds = false;
  // Upstream mTLS (absent for local_app): present the leaf, set SNI, verify the server's URI SAN.
  bool tls = false;
  TlsMaterial tls_material;
  std::string sni;
  std::vector<std::string> expected_sans;  // exact SPIFFE URIs; the server must present one
};

struct Listener {
  std::string name;  // public_listener:0.0.0.0:21000, db:127.0.0.1:9191
  std::string address;
  uint16_t port = 0;
  enum class Direction { kInbound, kOutbound };
  Direction direction = Direction::kOutbound;
  // Inbound mTLS: require and verify a client certificate against the trusted roots.
  bool tls = false;
  bool require_client_certificate = false;
  TlsMaterial tls_material;
  bool has_rbac = false;
  Rbac rbac;
  // Inbound only. When non-empty, the peer's SPIFFE ID must belong to one of these trust domains
  // (federated roots can vouch for foreign ones), and the client's SNI must be one of
  // `server_names` (Envoy's filter_chain_match.server_names).
  std::vector<std::string> trust_domains;
  std::vector<std::string> server_names;
  std::string cluster;     // tcp_proxy target
  std::string stat_prefix;
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};  // tcp_proxy default
  uint32_t max_connect_attempts = 3;  // tcp_proxy: other endpoints are tried on connect failure
};

struct ProxyConfig {
  std::map<std::string, Listener> listeners;
  std::map<std::string, Cluster> clusters;
  // Applied versions per type URL (for /config_dump and /stats).
  std::map<std::string, std::string> versions;
  uint64_t generation = 0;  // bumped on every applied change
};
using ProxyConfigPtr = std::shared_ptr<const ProxyConfig>;

}  // namespace trellis::proxy
