#pragma once
// An ADS client for tests and benchmarks, on gRPC's callback API (one ClientBidiReactor per
// stream, no thread per stream), so one process can hold thousands of streams. It ACKs every
// response by default (or NACKs the next one on request), records each response with its receive
// time, keeps the client's view of the resources, and calls a callback per response.
//
// Threading: callbacks run on gRPC threads; every public method is thread-safe. Destroying a
// stream cancels it and waits for gRPC to be done with it.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <envoy/service/discovery/v3/ads.grpc.pb.h>
#include <grpcpp/grpcpp.h>

namespace trellis::xds::testing {

using Clock = std::chrono::steady_clock;
using DeltaRequest = envoy::service::discovery::v3::DeltaDiscoveryRequest;
using DeltaResponse = envoy::service::discovery::v3::DeltaDiscoveryResponse;
using SotwRequest = envoy::service::discovery::v3::DiscoveryRequest;
using SotwResponse = envoy::service::discovery::v3::DiscoveryResponse;

template <class Response>
struct Received {
  Clock::time_point at;
  Response response;
};

struct ClientOptions {
  std::string node_id;
  std::string node_cluster = "test";
  // Sent in order when the stream opens. An empty name list asks for everything of the type
  // (the legacy wildcard, meaningful for clusters and listeners).
  std::vector<std::pair<std::string, std::vector<std::string>>> subscribe;
  // Delta only: type -> name -> version held from an earlier stream (reconnect).
  std::map<std::string, std::map<std::string, std::string>> initial_versions;
  bool auto_ack = true;
  bool record = true;  // keep every response; a large benchmark may only count them
};

// type -> name -> version, as the client holds it.
using View = std::map<std::string, std::map<std::string, std::string>>;

template <class Request, class Response>
class ClientStream : public grpc::ClientBidiReactor<Request, Response> {
 public:
  using Callback = std::function<void(const Response&, Clock::time_point)>;

  ~ClientStream() override;
  // Cancels the stream and waits for gRPC to be done with it. Derived destructors call it first
  // so that no reaction reaches a half-destroyed object.
  void stop();

  // The next response is NACKed with this detail instead of ACKed.
  void nackNext(std::string detail);
  std::vector<Received<Response>> responses() const;
  size_t responseCount() const;
  View view() const;
  // Waits until `pred(view, response count)` holds; false on timeout.
  bool waitFor(const std::function<bool(const View&, size_t)>& pred,
               std::chrono::milliseconds timeout) const;
  bool waitForCount(size_t count, std::chrono::milliseconds timeout) const;
  // Cancels the stream (without waiting).
  void cancel() { context_.TryCancel(); }
  // Waits for the stream to end; its status, or nullopt on timeout.
  std::optional<grpc::Status> waitDone(std::chrono::milliseconds timeout) const;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 protected:
  ClientStream(ClientOptions options, Callback callback);
  // Starts the call; `open` is the stream's method on the stub's async() interface.
  template <class Open>
  void start(Open&& open) {
    open(&context_, this);  // binds the reactor to the call; holds need that
    this->AddHold();        // released when reads end, so user-thread writes never race OnDone
    this->StartRead(&incoming_);
    this->StartCall();
  }
  void send(Request request);
  // Under mu_: applies a response to view_ and returns the ACK (or NACK) to send, if any.
  virtual std::optional<Request> answer(const Response& response,
                                        const std::optional<std::string>& nack) = 0;

  const ClientOptions options_;
  mutable std::mutex mu_;
  View view_;

 private:
  Callback callback_;
  grpc::ClientContext context_;
  Response incoming_;
  mutable std::condition_variable cv_;
  std::deque<Request> outgoing_;  // front is being written while writing_
  bool writing_ = false;
  bool reads_ended_ = false;
  bool done_ = false;
  grpc::Status status_;
  std::optional<std::string> nack_next_;
  std::vector<Received<Response>> responses_;
  size_t count_ = 0;
};

class DeltaClientStream final : public ClientStream<DeltaRequest, DeltaResponse> {
 public:
  DeltaClientStream(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& stub,
                    ClientOptions options, Callback callback);
  ~DeltaClientStream() override { stop(); }
  void subscribe(const std::string& type_url, const std::vector<std::string>& names);
  void unsubscribe(const std::string& type_url, const std::vector<std::string>& names);

 private:
  std::optional<DeltaRequest> answer(const DeltaResponse& response,
                                     const std::optional<std::string>& nack) override;
};

class SotwClientStream final : public ClientStream<SotwRequest, SotwResponse> {
 public:
  SotwClientStream(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& stub,
                   ClientOptions options, Callback callback);
  ~SotwClientStream() override { stop(); }
  // Replaces the names asked for of a type (state of the world: the full list every time).
  void request(const std::string& type_url, const std::vector<std::string>& names);

 private:
  std::optional<SotwRequest> answer(const SotwResponse& response,
                                    const std::optional<std::string>& nack) override;
  SotwRequest makeRequest(const std::string& type_url) const;  // under mu_

  std::map<std::string, std::vector<std::string>> names_;             // guarded by mu_
  std::map<std::string, std::pair<std::string, std::string>> acked_;  // type -> version, nonce
};

// Channels to one server; streams are spread over them round-robin so that a benchmark is not
// limited by one HTTP/2 connection.
class AdsTestClient {
 public:
  explicit AdsTestClient(const std::string& target, int channels = 1);

  std::unique_ptr<DeltaClientStream> openDelta(ClientOptions options,
                                               DeltaClientStream::Callback callback = {});
  std::unique_ptr<SotwClientStream> openSotw(ClientOptions options,
                                             SotwClientStream::Callback callback = {});

 private:
  envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& nextStub();

  std::vector<std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub>>
      stubs_;
  std::mutex mu_;
  size_t next_ = 0;
};

}  // namespace trellis::xds::testing
