#include "xds/server/ads_service.h"

#include <chrono>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "common/log.h"
#include "xds/server/delta_stream.h"
#include "xds/server/sotw_stream.h"

namespace trellis::xds {

namespace {

using Clock = std::chrono::steady_clock;

class UpdateSink {
 public:
  virtual ~UpdateSink() = default;
  virtual void onUpdate(ResourceSetPtr set) = 0;
};

// What on_update holds: a pointer the reactor clears before it goes away. The mutex is held for
// the whole delivery so that clearing waits for a delivery in progress.
struct Link {
  std::mutex mu;
  UpdateSink* target = nullptr;

  void deliver(ResourceSetPtr set) {
    std::lock_guard lock(mu);
    if (target != nullptr) target->onUpdate(std::move(set));
  }
  void cut() {
    std::lock_guard lock(mu);
    target = nullptr;
  }
};

grpc::StatusCode grpcCode(Code code) {
  switch (code) {
    case Code::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Code::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Code::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    default:
      return grpc::StatusCode::UNAVAILABLE;
  }
}

size_t removedCount(const DeltaStream::Response& r) { return r.removed_resources_size(); }
size_t removedCount(const SotwStream::Response&) { return 0; }

template <class Stream>
class AdsReactor final
    : public grpc::ServerBidiReactor<typename Stream::Request, typename Stream::Response>,
      public UpdateSink {
 public:
  AdsReactor(SnapshotSource& source, XdsMetrics& metrics)
      : source_(source), metrics_(metrics), stream_(metrics), link_(std::make_shared<Link>()) {
    link_->target = this;
    metrics_.streams_active.fetch_add(1, std::memory_order_relaxed);
    metrics_.streams_total.fetch_add(1, std::memory_order_relaxed);
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      requestFinish(grpc::Status::OK);
      return;
    }
    if (!subscription_ && !subscribe()) return;
    std::vector<Interest> interests;
    {
      std::lock_guard lock(mu_);
      interests = stream_.onRequest(request_);
    }
    // Outside the lock: the source may deliver a set from inside interest().
    for (const auto& i : interests) subscription_->interest(i.type_url, i.names, i.wildcard);
    pump();
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    if (ok) {
      metrics_.responses_pushed.fetch_add(1, std::memory_order_relaxed);
      metrics_.resources_sent.fetch_add(response_.resources_size(), std::memory_order_relaxed);
      metrics_.resources_removed.fetch_add(removedCount(response_), std::memory_order_relaxed);
      if (write_origin_) metrics_.push_latency.observe(Clock::now() - *write_origin_);
    }
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok && !finish_requested_) {
        finish_requested_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
      if (finish_requested_ && !finished_) {
        finished_ = true;
        finish = finish_status_;
      }
    }
    if (finish) {
      this->Finish(*finish);
      return;
    }
    pump();
  }

  void OnDone() override {
    link_->cut();
    subscription_.reset();
    metrics_.streams_active.fetch_sub(1, std::memory_order_relaxed);
    delete this;
  }

  void onUpdate(ResourceSetPtr set) override {
    if (!set || !set->complete) return;
    {
      std::lock_guard lock(mu_);
      if (finish_requested_) return;
      stream_.onResourceSet(std::move(set));
      if (!pending_since_) pending_since_ = Clock::now();
    }
    pump();
  }

 private:
  bool subscribe() {
    if (!request_.has_node() || request_.node().id().empty()) {
      refuse(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "first request must carry node.id"));
      return false;
    }
    NodeInfo node = nodeInfoFrom(request_.node());
    {
      std::lock_guard lock(mu_);
      stream_.setLabel(node.id);
    }
    std::shared_ptr<Link> link = link_;
    auto sub =
        source_.subscribe(node, [link](ResourceSetPtr set) { link->deliver(std::move(set)); });
    if (!sub) {
      TLOG_WARN("xds: refusing stream of {}: {}", node.id, sub.status().message());
      refuse(grpc::Status(grpcCode(sub.status().code()), sub.status().message()));
      return false;
    }
    subscription_ = std::move(*sub);
    return true;
  }

  void refuse(grpc::Status status) {
    metrics_.streams_refused.fetch_add(1, std::memory_order_relaxed);
    requestFinish(std::move(status));
  }

  void requestFinish(grpc::Status status) {
    {
      std::lock_guard lock(mu_);
      if (finish_requested_) return;
      finish_requested_ = true;
      finish_status_ = status;
      // With a write in flight the finish waits for OnWriteDone: one operation of each kind.
      if (writing_) return;
      finished_ = true;
    }
    this->Finish(status);
  }

  // Starts the next write if none is in flight.
  void pump() {
    {
      std::lock_guard lock(mu_);
      if (writing_ || finish_requested_) return;
      auto next = stream_.nextResponse();
      if (!next) {
        if (stream_.settled()) pending_since_.reset();
        return;
      }
      response_ = std::move(*next);
      write_origin_ = pending_since_;
      writing_ = true;
    }
    this->StartWrite(&response_);
  }

  SnapshotSource& source_;
  XdsMetrics& metrics_;
  typename Stream::Request request_;            // touched only by the read path
  std::unique_ptr<Subscription> subscription_;  // created and used by the read path only

  std::mutex mu_;
  Stream stream_;
  typename Stream::Response response_;  // owned by the write in flight while writing_
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  grpc::Status finish_status_;
  std::optional<Clock::time_point> pending_since_;  // oldest update not yet written
  std::optional<Clock::time_point> write_origin_;

  std::shared_ptr<Link> link_;
};

}  // namespace

NodeInfo nodeInfoFrom(const envoy::config::core::v3::Node& node) {
  NodeInfo info;
  info.id = node.id();
  info.cluster = node.cluster();
  info.user_agent_name = node.user_agent_name();
  if (node.has_user_agent_build_version()) {
    const auto& v = node.user_agent_build_version().version();
    info.user_agent_version =
        fmt::format("{}.{}.{}", v.major_number(), v.minor_number(), v.patch());
  } else {
    info.user_agent_version = node.user_agent_version();
  }
  info.metadata_json = "{}";
  if (node.has_metadata()) {
    std::string json;
    if (google::protobuf::util::MessageToJsonString(node.metadata(), &json).ok()) {
      info.metadata_json = std::move(json);
    }
  }
  return info;
}

grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                        envoy::service::discovery::v3::DeltaDiscoveryResponse>*
AdsService::DeltaAggregatedResources(grpc::CallbackServerContext*) {
  return new AdsReactor<DeltaStream>(source_, metrics_);
}

grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                        envoy::service::discovery::v3::DiscoveryResponse>*
AdsService::StreamAggregatedResources(grpc::CallbackServerContext*) {
  return new AdsReactor<SotwStream>(source_, metrics_);
}

}  // namespace trellis::xds
