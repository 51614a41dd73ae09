#pragma once
// GrpcCall: one bidirectional-streaming gRPC call over its own cleartext HTTP/2 connection (h2c
// with prior knowledge), built on nghttp2 and Boost.Asio. It is just enough gRPC for one ADS
// stream to a local agent: no TLS, no compression, no name-resolution policies, no retries (the
// caller reconnects). One connection per call; the call ends when the stream does.
//
// Threading: every method, and both callbacks, run on the thread that runs the io_context the
// call was created with. Callbacks never run inside nghttp2's own callbacks, nor inside start(),
// send() or cancel(): on_message may call send(), and on_end may destroy the handle. The state
// behind the handle lives on, inert, until Asio has finished with its pending operations.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace boost::asio {
class io_context;
}

namespace trellis::proxy::xds {

// gRPC status codes used here (google.rpc.Code).
inline constexpr int kGrpcCancelled = 1;
inline constexpr int kGrpcUnknown = 2;
inline constexpr int kGrpcInternal = 13;
inline constexpr int kGrpcUnavailable = 14;
inline constexpr int kGrpcResourceExhausted = 8;

// Where to connect: "HOST:PORT", "[V6]:PORT", "dns:///HOST:PORT", "unix:PATH", "unix:///PATH".
struct GrpcTarget {
  std::string host;  // empty for a unix socket
  uint16_t port = 0;
  std::string unix_path;
  std::string authority;  // for :authority
};
Result<GrpcTarget> parseGrpcTarget(std::string_view target);

struct GrpcCallOptions {
  GrpcTarget target;
  std::string path;                                           // "/package.Service/Method"
  std::vector<std::pair<std::string, std::string>> metadata;  // lower-case names
  size_t max_message_bytes = 16 << 20;
  std::chrono::milliseconds connect_timeout{10000};
  // An HTTP/2 PING after this long, and the connection is dropped if its ACK takes longer than
  // keepalive_timeout: finds an agent that vanished without a FIN.
  std::chrono::milliseconds keepalive_time{30000};
  std::chrono::milliseconds keepalive_timeout{10000};
  int32_t window_bytes = 1 << 20;  // stream and connection receive windows
};

struct GrpcCallEnd {
  int code = 0;  // grpc-status from the trailers, or a local code when there were none
  std::string message;
  // We ended the call because the peer broke HTTP/2 or gRPC rules or sent an oversized message.
  bool protocol_error = false;
};

class GrpcCall {
 public:
  // Returns false for a message that does not decode: the call then ends as a protocol error.
  using OnMessage = std::function<bool(std::string&& message)>;
  // At most once (never after the handle is destroyed), after which no callback runs.
  using OnEnd = std::function<void(const GrpcCallEnd&)>;

  GrpcCall(boost::asio::io_context& io, GrpcCallOptions options, OnMessage on_message,
           OnEnd on_end);
  // Ends the call without running on_end. Safe inside on_end.
  ~GrpcCall();
  GrpcCall(const GrpcCall&) = delete;
  GrpcCall& operator=(const GrpcCall&) = delete;

  // Connects and opens the stream; messages sent before are queued.
  void start();
  // Queues one message (framed here).
  void send(std::string_view message);
  // Ends the call: closes the connection now; on_end runs next, with kGrpcCancelled, unless the
  // call had already ended.
  void cancel();

 private:
  class Impl;  // owned with the pending I/O operations, which may outlive this handle
  std::shared_ptr<Impl> impl_;
};

}  // namespace trellis::proxy::xds
