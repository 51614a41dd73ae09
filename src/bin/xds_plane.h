#pragma once
// The agent's xDS control plane: proxycfg::Manager on the core loop, the generator-backed
// snapshot source and the ADS gRPC server on ports.grpc. Built by runAgent when the gRPC port is
// enabled (8502 in -dev).

#include <memory>
#include <string>

#include "api/context.h"
#include "common/status.h"
#include "config/agent_config.h"
#include "proxycfg/manager.h"
#include "server/ca_manager.h"
#include "xds/server/ads_server.h"
#include "xds/source/proxycfg_source.h"

namespace trellis::bin {

class XdsPlane {
 public:
  static Result<std::unique_ptr<XdsPlane>> start(api::Context& ctx, server::CaManager& ca,
                                                 const config::AgentConfig& cfg);
  ~XdsPlane();

  int port() const { return server_->port(); }
  // Ends every stream, then the generator pool. Call on the core loop before it stops.
  void stop();
  const xds::XdsMetrics& metrics() const { return metrics_; }
  // The ADS counters and push latency as /v1/agent/metrics samples.
  std::vector<api::Context::MetricSample> samples() const;

 private:
  XdsPlane() = default;

  std::unique_ptr<proxycfg::Manager> manager_;
  std::unique_ptr<xds::ProxycfgSource> source_;
  xds::XdsMetrics metrics_;
  std::unique_ptr<xds::AdsServer> server_;
  std::shared_ptr<const proxycfg::CaRoots> roots_;
  uint64_t roots_index_ = ~uint64_t{0};
};

}  // namespace trellis::bin
