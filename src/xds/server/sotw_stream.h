#pragma once
// The state-of-the-world ADS protocol for one stream, with no gRPC in it (see DeltaStream for the
// driving pattern). Every response carries all the resources of its type that the client asked
// for; version_info is "<set index>-<content hash>", and a type is resent only when its content
// hash (resource names, versions and the names asked for) changes, so a NACKed version is not
// resent and a client that never ACKs gets no backlog.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <envoy/service/discovery/v3/discovery.pb.h>

#include "xds/resources.h"
#include "xds/server/metrics.h"
#include "xds/server/stream_common.h"

namespace trellis::xds {

class SotwStream {
 public:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;

  explicit SotwStream(XdsMetrics& metrics, std::string label = "");

  void setLabel(std::string label) { label_ = std::move(label); }

  // Applies the request's resource names and ACK/NACK. Requests carrying a nonce other than the
  // latest of their type are stale and ignored (the client will send a current one).
  std::vector<Interest> onRequest(const Request& request);

  // Keeps the newest complete set; incomplete sets are ignored.
  void onResourceSet(ResourceSetPtr set);

  // The next response to write, or nullopt. Calling it commits the response as sent.
  std::optional<Response> nextResponse();

  // True when the last nextResponse() found nothing to send and nothing held back: the client has
  // everything of the current set that it asked for. Push latency is measured up to this point.
  bool settled() const { return settled_; }

  // For tests.
  std::string sentVersion(std::string_view type_url) const;
  bool awaitingAck(std::string_view type_url) const;

 private:
  struct TypeState {
    bool subscribed = false;
    bool wildcard = false;
    bool responded = false;
    bool awaiting = false;
    std::vector<std::string> names;  // sorted, unique, without "*"
    uint64_t sent_hash = 0;
    std::string sent_version;
    std::string last_nonce;
  };

  std::optional<Response> buildFor(size_t index);

  XdsMetrics& metrics_;
  std::string label_;
  std::array<TypeState, kPushOrder.size()> types_;
  ResourceSetPtr set_;
  uint64_t nonce_counter_ = 0;
  bool unknown_logged_ = false;
  bool settled_ = false;
};

}  // namespace trellis::xds
