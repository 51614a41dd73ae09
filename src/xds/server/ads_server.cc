#include "xds/server/ads_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "common/log.h"

namespace trellis::xds {

Result<std::unique_ptr<AdsServer>> AdsServer::start(SnapshotSource& source, XdsMetrics& metrics,
                                                    const AdsServerOptions& options) {
  std::unique_ptr<AdsServer> server(new AdsServer());
  server->service_ = std::make_unique<AdsService>(source, metrics);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->service_.get());
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(options.keepalive_time.count()));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(options.keepalive_timeout.count()));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             static_cast<int>(options.min_client_ping_interval.count()));
  // Responses can be large (every listener of a gateway); requests never are.
  builder.SetMaxSendMessageSize(-1);
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return Status(Code::kUnavailable, "xds: cannot listen on " + options.address);
  }
  TLOG_INFO("xds: ADS server listening on {} (port {})", options.address, server->port_);
  return server;
}

AdsServer::~AdsServer() { stop(); }

void AdsServer::stop(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
  service_.reset();
}

}  // namespace trellis::xds
