#pragma once
// Starts and stops a gRPC server carrying the ADS service. Streams are callback reactors, so a
// few gRPC threads serve thousands of streams.

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/server.h>

#include "common/status.h"
#include "xds/server/ads_service.h"

namespace trellis::xds {

struct AdsServerOptions {
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks a free one
  // The server pings an idle connection this often to find peers that vanished without a FIN,
  // and drops it when the ping is not answered within keepalive_timeout.
  std::chrono::milliseconds keepalive_time{std::chrono::minutes(1)};
  std::chrono::milliseconds keepalive_timeout{std::chrono::seconds(20)};
  // Clients may ping this often without being told off (Envoy and gRPC default to much less).
  std::chrono::milliseconds min_client_ping_interval{std::chrono::seconds(10)};
};

class AdsServer {
 public:
  // `source` and `metrics` must outlive the server.
  static Result<std::unique_ptr<AdsServer>> start(SnapshotSource& source, XdsMetrics& metrics,
                                                  const AdsServerOptions& options);
  ~AdsServer();

  int port() const { return port_; }
  // Cancels every stream (after `grace`) and waits for their reactors to finish. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

 private:
  AdsServer() = default;

  std::unique_ptr<AdsService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace trellis::xds
