#pragma once
// The incremental (delta) ADS protocol for one stream, with no gRPC in it: requests go in,
// resource sets go in, responses come out one at a time. The gRPC reactor owns one and drives it
// under its lock; tests and the fuzz target drive it directly.
//
// What the client holds is tracked per resource as the version last sent (acknowledged or not),
// so memory is bounded by the resource set and a client that never ACKs gets no backlog: each
// response is computed from the newest set against that view. A NACKed version is not resent;
// the next different version is.

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <envoy/service/discovery/v3/discovery.pb.h>

#include "xds/resources.h"
#include "xds/server/metrics.h"
#include "xds/server/stream_common.h"

namespace trellis::xds {

class DeltaStream {
 public:
  using Request = envoy::service::discovery::v3::DeltaDiscoveryRequest;
  using Response = envoy::service::discovery::v3::DeltaDiscoveryResponse;

  explicit DeltaStream(XdsMetrics& metrics, std::string label = "");

  // Used in log lines (the node id once known).
  void setLabel(std::string label) { label_ = std::move(label); }

  // Applies subscription changes and ACK/NACK. Returns the interest changes to forward to the
  // Subscription (empty when nothing changed).
  std::vector<Interest> onRequest(const Request& request);

  // Keeps the newest complete set; incomplete sets are ignored, so nothing is sent before the
  // first complete one.
  void onResourceSet(ResourceSetPtr set);

  // The next response to write, or nullopt when the client is up to date (or listeners are held
  // until clusters are acknowledged). Calling it commits the response as sent.
  std::optional<Response> nextResponse();

  // True when the last nextResponse() found nothing to send and nothing held back: the client has
  // everything of the current set that it asked for. Push latency is measured up to this point.
  bool settled() const { return settled_; }

  // For tests: the versions the server believes the client holds, and whether a response of the
  // type awaits its ACK/NACK.
  std::map<std::string, std::string> clientVersions(std::string_view type_url) const;
  bool awaitingAck(std::string_view type_url) const;

 private:
  struct TypeState {
    bool subscribed = false;
    bool wildcard = false;
    bool responded = false;
    std::set<std::string> names;
    std::map<std::string, std::string> sent;  // name -> version the client has (or rejected)
    std::set<std::string> absent_reported;    // explicit names already reported as missing
    std::string awaiting_nonce;
  };

  void handleAck(TypeState& t, const Request& request);
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
