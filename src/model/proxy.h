#pragma once
// The Proxy and Connect blocks of a service, typed (pb::ConnectProxyConfig, Service.connect_native)
// and their Consul JSON codecs. This is what proxycfg and the xDS generators read.
//
// Decoding accepts PascalCase or snake_case keys at every level (model::Fields), rejects unknown
// keys and wrong types with Go-like reasons, and keeps opaque Config maps (protocol,
// connect_timeout_ms, bind_port, ...) with the user's keys verbatim, as canonical JSON text.
//
// Rendering has two shapes because Consul has two: the agent endpoints answer with the api
// package's AgentServiceConnectProxyConfig (zero fields omitted), the catalog and health endpoints
// with structs.ConnectProxyConfig (Mode and Upstream DestinationType/Datacenter always present).

#include <string>

#include "common/status.h"
#include "model/decode.h"
#include "model/render.h"
#include "trellis.pb.h"

namespace trellis::model {

inline constexpr const char* kConnectProxyKind = "connect-proxy";
inline constexpr const char* kUpstreamService = "service";
inline constexpr const char* kUpstreamPreparedQuery = "prepared_query";

// `v` is the Proxy object (null is an empty config).
Status decodeProxy(const InJson& v, pb::ConnectProxyConfig* out);
Status decodeUpstream(const InJson& v, pb::Upstream* out);
// Locality {Region, Zone} as canonical JSON text ("" when null).
Result<std::string> decodeLocality(const InJson& v);

enum class ProxyView { kAgent, kCatalog };
Json renderProxy(const pb::ConnectProxyConfig& p, ProxyView view);
Json renderUpstream(const pb::Upstream& u, ProxyView view);
// ServiceConnect: {} or {"Native":true}.
Json renderConnect(bool native);

bool isGatewayKind(const std::string& kind);
// True when no field of the block is set (how a typical service's Proxy renders: `{}`-ish).
bool proxyIsEmpty(const pb::ConnectProxyConfig& p);

// The upstream's identity as proxycfg names it: "[prepared_query:]<name>[?peer=<p>|?dc=<dc>]".
std::string upstreamId(const pb::Upstream& u);
// Where its listener binds: "<addr or 127.0.0.1>:<port>" ("[v6]:port"), or the socket path.
std::string upstreamBindAddress(const pb::Upstream& u);
// "host:port", bracketing IPv6 hosts.
std::string joinHostPort(const std::string& host, int port);

// Consul's NodeService.Validate rules for proxies, gateways and native services. Returns the bare
// reason (callers prefix "Validation failed: "); `has_sidecar` = Connect.SidecarService was given.
Status validateConnect(const pb::Service& s, bool has_sidecar);

}  // namespace trellis::model
