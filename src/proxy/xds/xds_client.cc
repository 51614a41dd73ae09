#include "proxy/xds/xds_client.h"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "event/thread.h"

#ifndef TRELLIS_VERSION
#define TRELLIS_VERSION "dev"
#endif

namespace trellis::proxy::xds {

namespace asio = boost::asio;

namespace {

constexpr int kInvalidArgument = 3;  // google.rpc.Code
constexpr const char* kAdsPath =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

}  // namespace

struct XdsClient::Loop {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  asio::steady_timer backoff{io};
  std::unique_ptr<GrpcCall> call;
  std::thread thread;
};

XdsClient::XdsClient(XdsClientOptions options, ConfigCallback on_config)
    : options_(std::move(options)),
      on_config_(std::move(on_config)),
      loop_(std::make_unique<Loop>()),
      backoff_(options_.initial_backoff),
      rng_(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}()) {}

XdsClient::~XdsClient() { stop(); }

void XdsClient::start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  asio::post(loop_->io, [this] { openStream(); });
  loop_->thread = event::startThread("xds-client", [this] { loop_->io.run(); });
}

void XdsClient::stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (!loop_->thread.joinable()) return;
  // The stream's end and the cancelled timer run as handlers; then the loop runs out of work.
  asio::post(loop_->io, [this] {
    loop_->backoff.cancel();
    if (loop_->call) loop_->call->cancel();
  });
  loop_->work.reset();
  loop_->thread.join();
}

void XdsClient::openStream() {
  std::vector<Request> initial;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    initial = initialRequests();
    if (stats_.streams_started.fetch_add(1) > 0) stats_.reconnects.fetch_add(1);
  }
  auto target = parseGrpcTarget(options_.target);
  if (!target) return onStreamDone({kGrpcUnavailable, target.status().message(), false});
  GrpcCallOptions call;
  call.target = std::move(*target);
  call.path = kAdsPath;
  call.metadata.emplace_back("user-agent", "trellis-proxy/" TRELLIS_VERSION);
  if (!options_.token.empty()) call.metadata.emplace_back("x-consul-token", options_.token);
  call.max_message_bytes = options_.max_message_bytes;
  loop_->call = std::make_unique<GrpcCall>(
      loop_->io, std::move(call), [this](std::string&& bytes) { return onMessage(bytes); },
      [this](const GrpcCallEnd& end) { onStreamDone(end); });
  for (const auto& r : initial) loop_->call->send(r.SerializeAsString());
  loop_->call->start();
}

bool XdsClient::onMessage(const std::string& bytes) {
  Response response;
  if (!response.ParseFromString(bytes)) return false;
  for (const auto& r : onResponse(response)) {
    if (loop_->call) loop_->call->send(r.SerializeAsString());
  }
  return true;
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

void XdsClient::onStreamDone(const GrpcCallEnd& end) {
  loop_->call.reset();
  if (end.protocol_error) stats_.protocol_errors.fetch_add(1);
  std::lock_guard lock(mu_);
  stats_.connected.store(0);
  if (stopping_) return;
  TLOG_WARN("xds: stream to {} ended: {} {}; retrying in up to {} ms", options_.target, end.code,
            end.message, backoff_.count());
  scheduleReconnect();
}

void XdsClient::scheduleReconnect() {
  // Jitter in [backoff/2, backoff] keeps a fleet of proxies from reconnecting in lockstep.
  const auto half = backoff_.count() / 2;
  std::uniform_int_distribution<int64_t> jitter(half, std::max<int64_t>(half, backoff_.count()));
  const auto delay = std::chrono::milliseconds(jitter(rng_));
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  loop_->backoff.expires_after(delay);
  loop_->backoff.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) openStream();
  });
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
