#pragma once
// The Envoy v3 bootstrap that `trellis connect envoy` writes (and `trellis connect proxy` may
// reuse): the admin listener, the node identity the xDS server keys on, one static cluster
// `local_agent` pointing at the agent's gRPC port, and ADS over delta gRPC for listeners and
// clusters. Everything else arrives over xDS. A pure function of EnvoyBootstrapInput: no I/O,
// no name resolution (addresses must already be IPs, as Envoy's STATIC clusters require).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::cli {

inline constexpr std::string_view kLocalAgentCluster = "local_agent";

struct EnvoyBootstrapInput {
  std::string proxyId;  // node.id: the proxy's service ID on the local agent
  std::string cluster;  // node.cluster: the destination service of a sidecar, else the service
  std::string datacenter = "dc1";
  std::string nameSpace = "default";
  std::string partition = "default";

  std::string adminAddress = "127.0.0.1";
  uint16_t adminPort = 19000;
  std::string adminAccessLogPath = "/dev/null";

  std::string agentAddress = "127.0.0.1";  // the agent's xDS (gRPC) listener
  uint16_t agentPort = 8502;
  std::string token;  // sent as gRPC metadata x-consul-token when not empty

  // Proxy.Config keys. The two *_json values hold one or more JSON objects separated by commas,
  // as Consul accepts them; they are appended to static_resources.
  std::string extraStaticClustersJson;   // envoy_extra_static_clusters_json
  std::string extraStaticListenersJson;  // envoy_extra_static_listeners_json
  std::string statsFlushInterval;        // envoy_stats_flush_interval, e.g. "5s"
};

// Fails only on malformed extra JSON (the message names the Proxy.Config key).
Result<nlohmann::ordered_json> buildEnvoyBootstrap(const EnvoyBootstrapInput& in);

}  // namespace trellis::cli
