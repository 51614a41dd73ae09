#include "proxy/xds/xds_client.h"

#include <deque>

#include "common/log.h"

#ifndef TRELLIS_VERSION
#define TRELLIS_VERSION "dev"
#endif

namespace trellis::proxy::xds {

namespace {

constexpr int kInvalidArgument = 3;  // google.rpc.Code

}  // namespace

// One gRPC stream, at most one write in flight and later ones queued. It deletes itself in
// OnDone (gRPC's last reaction), after telling the client, which stops pointing at it then.
class XdsClient::Stream final : public grpc::ClientBidiReactor<Request, Response> {
 public:
  // Binds the call and queues the first requests; nothing happens until start().
  Stream(XdsClient& client, envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& stub,
         std::vector<Request> initial)
      : client_(client) {
    if (!client.options_.token.empty()) {
      context_.AddMetadata("x-consul-token", client.options_.token);
    }
    stub.async()->DeltaAggregatedResources(&context_, this);
    AddHold();  // released when reads end, so that writes from send() never race OnDone
    for (auto& r : initial) outgoing_.push_back(std::move(r));
    if (!outgoing_.empty()) {
      writing_ = true;
      StartWrite(&outgoing_.front());
    }
    StartRead(&incoming_);
  }

  void start() { StartCall(); }
  void cancel() { context_.TryCancel(); }

  void send(Request request) {
    {
      std::lock_guard lock(mu_);
      if (reads_ended_) return;
      outgoing_.push_back(std::move(request));
      if (writing_) return;
      writing_ = true;
      AddHold();
    }
    StartWrite(&outgoing_.front());
    RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mu_);
      outgoing_.pop_front();
      if (!ok || reads_ended_ || outgoing_.empty()) {
        writing_ = false;
        if (!ok) outgoing_.clear();
        return;
      }
    }
    StartWrite(&outgoing_.front());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        std::lock_guard lock(mu_);
        reads_ended_ = true;
      }
      RemoveHold();
      return;
    }
    for (auto& r : client_.onResponse(incoming_)) send(std::move(r));
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    client_.onStreamDone(status);
    delete this;
  }

 private:
  XdsClient& client_;
  grpc::ClientContext context_;
  Response incoming_;
  std::mutex mu_;
  std::deque<Request> outgoing_;  // front is being written while writing_
  bool writing_ = false;
  bool reads_ended_ = false;
};

XdsClient::XdsClient(XdsClientOptions options, ConfigCallback on_config)
    : options_(std::move(options)),
      on_config_(std::move(on_config)),
      backoff_(options_.initial_backoff),
      rng_(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}()) {}

XdsClient::~XdsClient() { stop(); }

void XdsClient::start() {
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff (1 s up to 2 min) would hold a restarted agent off for long;
  // match ours instead.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.initial_backoff.count()));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.initial_backoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.max_backoff.count()));
  // Finds an agent that vanished without a FIN; the server allows pings every 10 s.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetMaxReceiveMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(options_.target, grpc::InsecureChannelCredentials(), args);
  stub_ = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel_);
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  openStream(false, true);
}

void XdsClient::stop() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  if (alarm_pending_) alarm_->Cancel();
  if (stream_ != nullptr) stream_->cancel();
  cv_.wait(lock, [this] { return !alarm_pending_ && stream_ == nullptr; });
  alarm_.reset();
}

void XdsClient::openStream(bool from_alarm, bool fired) {
  Stream* stream = nullptr;
  {
    std::lock_guard lock(mu_);
    if (from_alarm) alarm_pending_ = false;
    if (stopping_ || !fired) {
      cv_.notify_all();
      return;
    }
    // No reaction runs before start(), so the stream cannot be gone before stream_ points at it.
    stream = new Stream(*this, *stub_, initialRequests());
    stream_ = stream;
    if (stats_.streams_started.fetch_add(1) > 0) stats_.reconnects.fetch_add(1);
  }
  stream->start();
}

std::vector<XdsClient::Request> XdsClient::initialRequests() {
  std::vector<Request> out;
  auto add = [&](std::string_view type, const std::set<std::string>* names) {
    Request r;
    r.set_type_url(std::string(type));
    if (names != nullptr) {
      for (const auto& n : *names) r.add_resource_names_subscribe(n);
    }
    for (auto& [name, version] : ingest_.resourceVersions(type)) {
      if (names == nullptr || names->contains(name))
        (*r.mutable_initial_resource_versions())[name] = version;
    }
    out.push_back(std::move(r));
  };
  // Empty names on the first request of clusters and listeners: the legacy wildcard, which
  // every ADS server understands.
  add(kClusterType, nullptr);
  add(kListenerType, nullptr);
  subscribed_assignments_ = ingest_.wantedAssignments();
  subscribed_secrets_ = ingest_.wantedSecrets();
  if (!subscribed_assignments_.empty()) add(kEndpointType, &subscribed_assignments_);
  if (!subscribed_secrets_.empty()) add(kSecretType, &subscribed_secrets_);

  auto* node = out.front().mutable_node();
  node->set_id(options_.node_id);
  node->set_cluster(options_.node_cluster);
  node->set_user_agent_name("trellis-proxy");
  node->set_user_agent_version(TRELLIS_VERSION);
  auto& fields = *node->mutable_metadata()->mutable_fields();
  fields["namespace"].set_string_value(options_.node_namespace);
  fields["partition"].set_string_value(options_.node_partition);
  return out;
}

void XdsClient::subscriptionChanges(std::string_view type_url, const std::set<std::string>& wanted,
                                    std::set<std::string>& subscribed, std::vector<Request>& out) {
  Request r;
  std::vector<std::string> gone;
  for (const auto& n : wanted) {
    if (!subscribed.contains(n)) r.add_resource_names_subscribe(n);
  }
  for (const auto& n : subscribed) {
    if (!wanted.contains(n)) gone.push_back(n);
  }
  if (r.resource_names_subscribe().empty() && gone.empty()) return;
  for (const auto& n : gone) r.add_resource_names_unsubscribe(n);
  ingest_.forget(type_url, gone);
  subscribed = wanted;
  r.set_type_url(std::string(type_url));
  out.push_back(std::move(r));
}

std::vector<XdsClient::Request> XdsClient::onResponse(const Response& response) {
  std::vector<Request> out;
  ProxyConfigPtr applied;
  {
    std::lock_guard lock(mu_);
    stats_.connected.store(1);
    backoff_ = options_.initial_backoff;
    Request answer;
    answer.set_type_url(response.type_url());
    answer.set_response_nonce(response.nonce());
    auto result = ingest_.apply(response);
    if (result) {
      applied = std::move(*result);
      stats_.updates_applied.fetch_add(1);
      stats_.config_generation.store(applied->generation);
      out.push_back(std::move(answer));
      subscriptionChanges(kEndpointType, ingest_.wantedAssignments(), subscribed_assignments_, out);
      subscriptionChanges(kSecretType, ingest_.wantedSecrets(), subscribed_secrets_, out);
    } else {
      last_nack_ = result.status().message();
      stats_.nacks_sent.fetch_add(1);
      TLOG_WARN("xds: rejected {} (nonce {}): {}", response.type_url(), response.nonce(),
                last_nack_);
      answer.mutable_error_detail()->set_code(kInvalidArgument);
      answer.mutable_error_detail()->set_message(last_nack_);
      out.push_back(std::move(answer));
    }
  }
  if (applied && on_config_) on_config_(applied);
  return out;
}

void XdsClient::onStreamDone(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  stats_.connected.store(0);
  stream_ = nullptr;
  if (stopping_) {
    cv_.notify_all();
    return;
  }
  TLOG_WARN("xds: stream to {} ended: {} {}; retrying in up to {} ms", options_.target,
            static_cast<int>(status.error_code()), status.error_message(), backoff_.count());
  scheduleReconnect();
}

void XdsClient::scheduleReconnect() {
  // Jitter in [backoff/2, backoff] keeps a fleet of proxies from reconnecting in lockstep.
  const auto half = backoff_.count() / 2;
  std::uniform_int_distribution<int64_t> jitter(half, std::max<int64_t>(half, backoff_.count()));
  const auto delay = std::chrono::milliseconds(jitter(rng_));
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_pending_ = true;
  alarm_->Set(std::chrono::system_clock::now() + delay,
              [this](bool fired) { openStream(true, fired); });
}

ProxyConfigPtr XdsClient::current() const {
  std::lock_guard lock(mu_);
  return ingest_.current();
}

std::map<std::string, std::string> XdsClient::versions() const {
  std::lock_guard lock(mu_);
  return ingest_.current()->versions;
}

std::string XdsClient::lastNackReason() const {
  std::lock_guard lock(mu_);
  return last_nack_;
}

}  // namespace trellis::proxy::xds
