#pragma once
// The parts of an Envoy bootstrap (as `trellis connect envoy -bootstrap` prints it, see
// src/cli/envoy_bootstrap.h) that trellis-proxy needs to find and talk to its agent.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trellis::proxy::xds {

struct BootstrapInfo {
  std::string node_id;                     // node.id: the proxy's service ID
  std::string node_cluster;                // node.cluster
  std::string node_namespace = "default";  // node.metadata.namespace
  std::string node_partition = "default";  // node.metadata.partition
  // The ADS cluster's first endpoint (`local_agent`): an IP and port, or a unix socket path.
  std::string agent_address;
  uint16_t agent_port = 0;
  std::string agent_unix_path;
  std::string token;  // ads_config initial_metadata x-consul-token
  std::string admin_address;
  uint16_t admin_port = 0;  // 0 when the bootstrap has no admin listener

  // A gRPC target: "127.0.0.1:8502", "[::1]:8502" or "unix:/path".
  std::string agentTarget() const;
};

// Fails with a one-line reason on malformed JSON or a bootstrap without node.id or without an
// ADS cluster address.
Result<BootstrapInfo> parseBootstrap(std::string_view json);

}  // namespace trellis::proxy::xds
