#pragma once
// envoy.service.discovery.v3.AggregatedDiscoveryService on gRPC's callback API: one reactor per
// stream, no thread per stream. Each reactor drives a DeltaStream or SotwStream and keeps at most
// one write in flight; resource sets arriving meanwhile replace each other (only the newest is
// kept), so a slow client costs one set and one response of memory.
//
// Threading: reactor callbacks run on gRPC's threads, on_update on the source's; a per-stream
// mutex guards the protocol state. Teardown: when the stream is done the reactor first cuts the
// link on_update goes through (waiting out a call in progress), then destroys the Subscription,
// then itself; a later on_update finds the link cut and does nothing.

#include <envoy/service/discovery/v3/ads.grpc.pb.h>

#include "xds/server/metrics.h"
#include "xds/server/source.h"

namespace trellis::xds {

class AdsService final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  // Both must outlive the service and every stream it opened (stop the server first).
  AdsService(SnapshotSource& source, XdsMetrics& metrics) : source_(source), metrics_(metrics) {}

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                          envoy::service::discovery::v3::DeltaDiscoveryResponse>*
  DeltaAggregatedResources(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                          envoy::service::discovery::v3::DiscoveryResponse>*
  StreamAggregatedResources(grpc::CallbackServerContext* context) override;

 private:
  SnapshotSource& source_;
  XdsMetrics& metrics_;
};

// NodeInfo from the node of a first request.
NodeInfo nodeInfoFrom(const envoy::config::core::v3::Node& node);

}  // namespace trellis::xds
