#pragma once
// The seam between the ADS server and whatever builds resources for a proxy (proxycfg plus the
// generators in production, a fake in tests). The server never builds resources itself.
//
// Threading and ownership:
// - subscribe() is called on a gRPC callback thread, once per stream, when the stream's first
//   request names the node. It must not block for long.
// - on_update may be called from any thread, possibly synchronously inside subscribe(), with each
//   newer ResourceSet. The server keeps only the newest set per stream (older ones not yet sent
//   are dropped), so a source may call it as often as it likes.
// - The server owns the returned Subscription and destroys it when the stream ends, before the
//   stream's state is freed. After the Subscription is destroyed the source must stop calling
//   on_update; a late call is nonetheless harmless (it is dropped).
// - interest() is called on a gRPC callback thread, never while the server holds a stream lock,
//   so the source may call on_update from inside it.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "xds/resources.h"

namespace trellis::xds {

// What the client said about itself in its first request.
struct NodeInfo {
  std::string id;
  std::string cluster;
  std::string metadata_json;  // node.metadata rendered as JSON ("{}" when absent)
  std::string user_agent_name;
  std::string user_agent_version;  // user_agent_version, or build_version as "major.minor.patch"
};

class Subscription {
 public:
  virtual ~Subscription() = default;
  // The client's interest in `type_url` changed: the explicit names it wants now (sorted) and
  // whether it also wants everything. Proxyless gRPC clients ask for listeners by service name,
  // so a source must learn the names to generate them.
  virtual void interest(std::string_view type_url, const std::vector<std::string>& names,
                        bool wildcard) = 0;
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // An error refuses the stream: kNotFound and kPermissionDenied map onto the gRPC codes of the
  // same name, kInvalidArgument onto INVALID_ARGUMENT, anything else onto UNAVAILABLE.
  virtual Result<std::unique_ptr<Subscription>> subscribe(
      const NodeInfo& node, std::function<void(ResourceSetPtr)> on_update) = 0;
};

}  // namespace trellis::xds
