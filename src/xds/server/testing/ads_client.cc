#include "xds/server/testing/ads_client.h"

namespace trellis::xds::testing {

namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;

void setNode(envoy::config::core::v3::Node* node, const ClientOptions& options) {
  node->set_id(options.node_id);
  node->set_cluster(options.node_cluster);
  node->set_user_agent_name("trellis-test-client");
  node->set_user_agent_version("0");
}

}  // namespace

template <class Request, class Response>
ClientStream<Request, Response>::ClientStream(ClientOptions options, Callback callback)
    : options_(std::move(options)), callback_(std::move(callback)) {}

template <class Request, class Response>
ClientStream<Request, Response>::~ClientStream() {
  stop();
}

template <class Request, class Response>
void ClientStream<Request, Response>::stop() {
  context_.TryCancel();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return done_; });
}

template <class Request, class Response>
void ClientStream<Request, Response>::send(Request request) {
  {
    std::lock_guard lock(mu_);
    if (reads_ended_) return;
    outgoing_.push_back(std::move(request));
    if (writing_) return;
    writing_ = true;
    // A hold taken while the start hold is still in place keeps OnDone away until StartWrite.
    this->AddHold();
  }
  this->StartWrite(&outgoing_.front());
  this->RemoveHold();
}

template <class Request, class Response>
void ClientStream<Request, Response>::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    outgoing_.pop_front();
    if (!ok || reads_ended_ || outgoing_.empty()) {
      writing_ = false;
      if (!ok) outgoing_.clear();
      return;
    }
  }
  // Only this reaction touches the front while writing_ stays set.
  this->StartWrite(&outgoing_.front());
}

template <class Request, class Response>
void ClientStream<Request, Response>::OnReadDone(bool ok) {
  if (!ok) {
    {
      std::lock_guard lock(mu_);
      reads_ended_ = true;
    }
    this->RemoveHold();
    return;
  }
  const auto at = Clock::now();
  std::optional<Request> reply;
  {
    std::lock_guard lock(mu_);
    std::optional<std::string> nack = std::move(nack_next_);
    nack_next_.reset();
    reply = answer(incoming_, nack);
    if (!options_.auto_ack && !nack) reply.reset();
    ++count_;
    if (options_.record) responses_.push_back({at, incoming_});
  }
  cv_.notify_all();
  if (callback_) callback_(incoming_, at);
  if (reply) send(std::move(*reply));
  this->StartRead(&incoming_);
}

template <class Request, class Response>
void ClientStream<Request, Response>::OnDone(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  done_ = true;
  status_ = status;
  cv_.notify_all();
}

template <class Request, class Response>
void ClientStream<Request, Response>::nackNext(std::string detail) {
  std::lock_guard lock(mu_);
  nack_next_ = std::move(detail);
}

template <class Request, class Response>
std::vector<Received<Response>> ClientStream<Request, Response>::responses() const {
  std::lock_guard lock(mu_);
  return responses_;
}

template <class Request, class Response>
size_t ClientStream<Request, Response>::responseCount() const {
  std::lock_guard lock(mu_);
  return count_;
}

template <class Request, class Response>
View ClientStream<Request, Response>::view() const {
  std::lock_guard lock(mu_);
  return view_;
}

template <class Request, class Response>
bool ClientStream<Request, Response>::waitFor(const std::function<bool(const View&, size_t)>& pred,
                                              std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(view_, count_); });
}

template <class Request, class Response>
bool ClientStream<Request, Response>::waitForCount(size_t count,
                                                   std::chrono::milliseconds timeout) const {
  return waitFor([count](const View&, size_t n) { return n >= count; }, timeout);
}

template <class Request, class Response>
std::optional<grpc::Status> ClientStream<Request, Response>::waitDone(
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return done_; })) return std::nullopt;
  return status_;
}

template class ClientStream<DeltaRequest, DeltaResponse>;
template class ClientStream<SotwRequest, SotwResponse>;

DeltaClientStream::DeltaClientStream(AggregatedDiscoveryService::Stub& stub, ClientOptions options,
                                     Callback callback)
    : ClientStream(std::move(options), std::move(callback)) {
  start([&stub](grpc::ClientContext* context, auto* reactor) {
    stub.async()->DeltaAggregatedResources(context, reactor);
  });
  bool first = true;
  for (const auto& [type, names] : options_.subscribe) {
    DeltaRequest r;
    if (first) setNode(r.mutable_node(), options_);
    first = false;
    r.set_type_url(type);
    for (const auto& n : names) r.add_resource_names_subscribe(n);
    if (auto it = options_.initial_versions.find(type); it != options_.initial_versions.end()) {
      for (const auto& [name, version] : it->second) {
        (*r.mutable_initial_resource_versions())[name] = version;
      }
      std::lock_guard lock(mu_);
      view_[type] = it->second;
    }
    send(std::move(r));
  }
}

void DeltaClientStream::subscribe(const std::string& type_url,
                                  const std::vector<std::string>& names) {
  DeltaRequest r;
  r.set_type_url(type_url);
  for (const auto& n : names) r.add_resource_names_subscribe(n);
  send(std::move(r));
}

void DeltaClientStream::unsubscribe(const std::string& type_url,
                                    const std::vector<std::string>& names) {
  DeltaRequest r;
  r.set_type_url(type_url);
  for (const auto& n : names) r.add_resource_names_unsubscribe(n);
  {
    std::lock_guard lock(mu_);
    for (const auto& n : names) view_[type_url].erase(n);
  }
  send(std::move(r));
}

std::optional<DeltaRequest> DeltaClientStream::answer(const DeltaResponse& response,
                                                      const std::optional<std::string>& nack) {
  DeltaRequest r;
  r.set_type_url(response.type_url());
  r.set_response_nonce(response.nonce());
  if (nack) {
    r.mutable_error_detail()->set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    r.mutable_error_detail()->set_message(*nack);
    return r;
  }
  auto& held = view_[response.type_url()];
  for (const auto& res : response.resources()) held[res.name()] = res.version();
  for (const auto& name : response.removed_resources()) held.erase(name);
  return r;
}

SotwClientStream::SotwClientStream(AggregatedDiscoveryService::Stub& stub, ClientOptions options,
                                   Callback callback)
    : ClientStream(std::move(options), std::move(callback)) {
  start([&stub](grpc::ClientContext* context, auto* reactor) {
    stub.async()->StreamAggregatedResources(context, reactor);
  });
  bool first = true;
  for (const auto& [type, names] : options_.subscribe) {
    SotwRequest r;
    {
      std::lock_guard lock(mu_);
      names_[type] = names;
      r = makeRequest(type);
    }
    if (first) setNode(r.mutable_node(), options_);
    first = false;
    send(std::move(r));
  }
}

void SotwClientStream::request(const std::string& type_url, const std::vector<std::string>& names) {
  SotwRequest r;
  {
    std::lock_guard lock(mu_);
    names_[type_url] = names;
    r = makeRequest(type_url);
  }
  send(std::move(r));
}

SotwRequest SotwClientStream::makeRequest(const std::string& type_url) const {
  SotwRequest r;
  r.set_type_url(type_url);
  if (auto it = names_.find(type_url); it != names_.end()) {
    for (const auto& n : it->second) r.add_resource_names(n);
  }
  if (auto it = acked_.find(type_url); it != acked_.end()) {
    r.set_version_info(it->second.first);
    r.set_response_nonce(it->second.second);
  }
  return r;
}

std::optional<SotwRequest> SotwClientStream::answer(const SotwResponse& response,
                                                    const std::optional<std::string>& nack) {
  auto& acked = acked_[response.type_url()];
  if (!nack) acked.first = response.version_info();
  acked.second = response.nonce();
  SotwRequest r = makeRequest(response.type_url());
  if (nack) {
    r.mutable_error_detail()->set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    r.mutable_error_detail()->set_message(*nack);
    return r;
  }
  // The view of a state-of-the-world type is the whole response; entries are keyed by position
  // since the client does not decode resources, and carry the response's version.
  auto& held = view_[response.type_url()];
  held.clear();
  for (int i = 0; i < response.resources_size(); ++i) {
    held[std::to_string(i)] = response.version_info();
  }
  return r;
}

AdsTestClient::AdsTestClient(const std::string& target, int channels) {
  for (int i = 0; i < std::max(channels, 1); ++i) {
    grpc::ChannelArguments args;
    // Separate subchannel pools make separate connections.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("trellis.test_channel", i);
    args.SetMaxReceiveMessageSize(-1);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    stubs_.push_back(AggregatedDiscoveryService::NewStub(channel));
  }
}

AggregatedDiscoveryService::Stub& AdsTestClient::nextStub() {
  std::lock_guard lock(mu_);
  return *stubs_[next_++ % stubs_.size()];
}

std::unique_ptr<DeltaClientStream> AdsTestClient::openDelta(ClientOptions options,
                                                            DeltaClientStream::Callback callback) {
  return std::make_unique<DeltaClientStream>(nextStub(), std::move(options), std::move(callback));
}

std::unique_ptr<SotwClientStream> AdsTestClient::openSotw(ClientOptions options,
                                                          SotwClientStream::Callback callback) {
  return std::make_unique<SotwClientStream>(nextStub(), std::move(options), std::move(callback));
}

}  // namespace trellis::xds::testing
