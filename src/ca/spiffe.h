#pragma once
// SPIFFE identities as Consul Connect uses them (reference section 2.1). Every certificate the CA
// issues carries exactly one of these as its URI SAN, and authorization compares them, so the
// parser is strict: a URI either maps to one typed identity or is refused with a reason.
//
// Forms (the `/ap/<partition>` prefix is optional and means "default" when absent):
//   spiffe://<td>                                        signing (roots, intermediates)
//   spiffe://<td>[/ap/<p>]/ns/<ns>/dc/<dc>/svc/<svc>     service
//   spiffe://<td>[/ap/<p>]/agent/client/dc/<dc>/id/<id>  client agent
//   spiffe://<td>/agent/server/dc/<dc>                   server
//   spiffe://<td>[/ap/<p>]/gateway/mesh/dc/<dc>          mesh gateway
// Segments are percent-decoded when parsed and percent-encoded when formatted.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace trellis::ca {

inline constexpr std::size_t kMaxSpiffeUriLength = 2048;  // SPIFFE ID spec
inline constexpr std::size_t kMaxTrustDomainLength = 255;
inline constexpr std::size_t kMaxSegmentLength = 255;  // after decoding
inline constexpr std::string_view kDefaultPartition = "default";
inline constexpr std::string_view kDefaultNamespace = "default";

struct SigningId {
  std::string trust_domain;
  bool operator==(const SigningId&) const = default;
};

struct ServiceId {
  std::string trust_domain;
  std::string partition{kDefaultPartition};
  std::string ns{kDefaultNamespace};
  std::string datacenter;
  std::string service;
  bool operator==(const ServiceId&) const = default;
};

struct AgentId {
  std::string trust_domain;
  std::string partition{kDefaultPartition};
  std::string datacenter;
  std::string agent;  // node name or ID the agent asked for
  bool operator==(const AgentId&) const = default;
};

struct ServerId {
  std::string trust_domain;
  std::string datacenter;
  bool operator==(const ServerId&) const = default;
};

struct MeshGatewayId {
  std::string trust_domain;
  std::string partition{kDefaultPartition};
  std::string datacenter;
  bool operator==(const MeshGatewayId&) const = default;
};

using SpiffeId = std::variant<SigningId, ServiceId, AgentId, ServerId, MeshGatewayId>;

// Parses a URI SAN. The scheme match is case-insensitive and the trust domain is lower-cased (as
// Consul does); paths keep their case. Refuses: other schemes, userinfo, ports, queries,
// fragments, empty or dot segments, bad percent escapes, encoded '/' or NUL, unknown path shapes,
// over-long input.
Result<SpiffeId> parseSpiffeId(std::string_view uri);

// Canonical URI. Partition "default" is omitted, so CE-style IDs round-trip byte for byte.
std::string formatSpiffeId(const SpiffeId& id);

const std::string& trustDomainOf(const SpiffeId& id);

// Cluster trust domains are exactly `<lowercase uuid>.consul`, whatever the DNS domain.
Status validateClusterTrustDomain(std::string_view trust_domain);
std::string trustDomainForCluster(std::string_view cluster_id);

// SNI of a service's upstream cluster: `[<subset>.]<svc>.<ns>.<dc>.internal.<td>` (default
// partition only; ns defaults to "default").
std::string serviceSni(std::string_view service, std::string_view subset, std::string_view ns,
                       std::string_view datacenter, std::string_view trust_domain);

}  // namespace trellis::ca
