#pragma once
// XdsClient: trellis-proxy's one delta ADS stream to its agent. It subscribes to every cluster
// and listener, then to the ClusterLoadAssignments and Secrets those name (and unsubscribes when
// they stop being named), feeds each response through an Ingest, ACKs what applied and NACKs
// what did not with the reason. When the stream fails it keeps the last good config and
// reconnects with jittered exponential backoff, telling the server what it holds
// (initial_resource_versions) so that only changes come back.
//
// Transport: a GrpcCall (grpc_call.h), plain HTTP/2 to the agent's gRPC port, one connection per
// stream; not the gRPC library, whose threads and mappings cost more memory than the rest of
// the proxy at idle (docs/decisions/0003-proxy-without-grpc.md).
//
// Threading: one thread of its own ("xds-client"), started by start() and joined by stop(), runs
// the stream and the backoff timer. A mutex guards the Ingest and the subscription state for the
// readers (current(), versions(), lastNackReason()). `on_config` runs on that thread, never
// concurrently with itself, in the order configs were applied, and without the lock held (it
// may call current() or stats()). It must not call stop().

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <envoy/service/discovery/v3/discovery.pb.h>

#include "proxy/config.h"
#include "proxy/xds/grpc_call.h"
#include "proxy/xds/ingest.h"

namespace trellis::proxy::xds {

struct XdsClientOptions {
  std::string target;  // the agent's xDS port: "127.0.0.1:8502", "[::1]:8502", "unix:/path"
  std::string node_id;
  std::string node_cluster;
  std::string node_namespace = "default";
  std::string node_partition = "default";
  std::string token;  // sent as x-consul-token metadata when not empty
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  uint64_t jitter_seed = 0;  // 0: seeded from std::random_device
  // A response larger than this ends the stream (counted in protocol_errors) before it is
  // buffered; the client reconnects.
  size_t max_message_bytes = 16 << 20;
};

// Counters for /stats; plain atomics so the admin thread reads them without a lock.
struct XdsClientStats {
  std::atomic<uint64_t> updates_applied{0};  // responses applied (each one ACKed)
  std::atomic<uint64_t> nacks_sent{0};
  std::atomic<uint64_t> streams_started{0};
  std::atomic<uint64_t> reconnects{0};  // streams started after the first
  std::atomic<int64_t> connected{0};    // 1 once the current stream got a response
  std::atomic<uint64_t> config_generation{0};
  // Streams we ended because the agent broke HTTP/2 or gRPC framing, sent an oversized or
  // undecodable message, or answered with something other than gRPC.
  std::atomic<uint64_t> protocol_errors{0};
};

class XdsClient {
 public:
  using ConfigCallback = std::function<void(ProxyConfigPtr)>;

  XdsClient(XdsClientOptions options, ConfigCallback on_config);
  ~XdsClient();  // stop()s
  XdsClient(const XdsClient&) = delete;
  XdsClient& operator=(const XdsClient&) = delete;

  // Starts the thread and the first stream. Call once.
  void start();
  // Cancels the stream and any pending reconnect and joins the thread. Idempotent; the last
  // config stays readable through current().
  void stop();

  const XdsClientStats& stats() const { return stats_; }
  ProxyConfigPtr current() const;
  // type_url -> system_version_info of the last applied response of each type.
  std::map<std::string, std::string> versions() const;
  // The reason of the last NACK sent (empty if none), for logs and /config_dump.
  std::string lastNackReason() const;

 private:
  struct Loop;  // the thread, its io_context, the stream and the backoff timer
  using Request = envoy::service::discovery::v3::DeltaDiscoveryRequest;
  using Response = envoy::service::discovery::v3::DeltaDiscoveryResponse;

  // On the client's thread.
  void openStream();
  bool onMessage(const std::string& bytes);
  void onStreamDone(const GrpcCallEnd& end);

  std::vector<Request> onResponse(const Response& response);
  std::vector<Request> initialRequests();  // under mu_
  void subscriptionChanges(std::string_view type_url, const std::set<std::string>& wanted,
                           std::set<std::string>& subscribed,
                           std::vector<Request>& out);  // under mu_
  void scheduleReconnect();                             // under mu_

  const XdsClientOptions options_;
  const ConfigCallback on_config_;
  XdsClientStats stats_;
  std::unique_ptr<Loop> loop_;
  std::mutex stop_mu_;  // serializes stop()s

  mutable std::mutex mu_;
  Ingest ingest_;
  std::set<std::string> subscribed_assignments_;
  std::set<std::string> subscribed_secrets_;
  std::string last_nack_;
  bool stopping_ = false;
  bool started_ = false;
  std::chrono::milliseconds backoff_;
  std::mt19937_64 rng_;
};

}  // namespace trellis::proxy::xds
