#pragma once
// The parts of `trellis connect envoy` that decide something from text or from the agent's
// answers, kept apart from the command so they can be tested without an agent.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::cli {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// Go's net.SplitHostPort, stricter: "host:port" or "[v6]:port"; the host and a numeric port in
// 1..65535 are required ("localhost:19000", "0.0.0.0:19001", "[::1]:19002").
Result<HostPort> splitHostPort(std::string_view text);

// A numeric address for `host` (itself if it is one already), IPv4 first: Envoy binds and
// connects STATIC clusters only to IPs.
Result<std::string> resolveIp(const std::string& host);

// A -grpc-addr / CONSUL_GRPC_ADDR value: "host:port" or "http://host:port". https:// and
// unix:// are refused with a reason (the agent serves neither yet).
Result<HostPort> parseGrpcAddr(std::string_view text);

// The agent's xDS port from GET /v1/agent/self: xDS.Port, else DebugConfig.GRPCPort, else 8502
// (Consul's dev-mode default). Ports <= 0 mean "off" and are skipped.
uint16_t xdsPortFromSelf(const nlohmann::json& self);

// The single connect-proxy among GET /v1/agent/services whose Proxy.DestinationServiceID equals
// `serviceId` (case-insensitively, as Consul compares); Consul's messages when there are none or
// several.
Result<std::string> findSidecarProxyId(const nlohmann::json& services, std::string_view serviceId);

// obj[name] where keys match ignoring case and underscores ("DestinationServiceID" finds
// "destination_service_id"): the agent may echo a Proxy block in the casing it was registered in.
const nlohmann::json* findField(const nlohmann::json& obj, std::string_view name);

}  // namespace trellis::cli
