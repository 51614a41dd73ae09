#pragma once
// Intentions -> Envoy RBAC rules, Consul's translation (agent/xds/rbac.go behaviour):
//
//   1. Sort by precedence (highest first); drop lower-precedence intentions whose source equals a
//      higher one's (the higher one already decides for that source).
//   2. Default allow => RBAC action DENY (a deny-list); default deny => ALLOW (an allow-list, and
//      an allow-list without policies denies everything).
//   3. Walking from the lowest precedence up, each intention's source is appended as NOT <source>
//      to every lower-precedence intention whose (wildcard) source covers it; intentions whose
//      action equals the default are then dropped, the default covers them. NOT lists drop
//      entries covered by another entry of the same list.
//   4. L4: the remaining principals form one policy `consul-intentions-layer4`, permission any.
//      L7 (HTTP listeners only): each remaining L7 intention becomes `consul-intentions-layer7-<i>`
//      with one permission per Permissions entry, folded the same way across its permissions.
//
// Principals match the peer certificate's URI SAN with the regex
// `^spiffe://<trust-domain>[/ap/<partition>]/ns/<ns>/dc/[^/]+/svc/<svc>$`, `*` -> `[^/]+`. The
// datacenter is deliberately not checked (Consul). Like Consul, an L7 intention reaching an L4
// listener counts as a deny for its source. Intentions from peers are skipped: no peer trust
// bundle is ever trusted by the listener, so they could not match a connection anyway, and
// Consul only folds sources of the same peer into each other. JWT requirements are not compiled.
//
// Pure function; the intentions must be well formed (decoded by src/intentions).

#include <string>
#include <string_view>

#include "envoy/config/rbac/v3/rbac.pb.h"
#include "proxycfg/snapshot.h"

namespace trellis::xds {

inline constexpr std::string_view kRbacL4PolicyName = "consul-intentions-layer4";
inline constexpr std::string_view kRbacL7PolicyPrefix = "consul-intentions-layer7-";

envoy::config::rbac::v3::RBAC makeRbacRules(const proxycfg::Intentions& intentions,
                                            std::string_view trust_domain, bool is_http);

// The SPIFFE regex for one intention source (`*` allowed for namespace and name).
std::string spiffePattern(std::string_view trust_domain, std::string_view partition,
                          std::string_view ns, std::string_view name);

}  // namespace trellis::xds
