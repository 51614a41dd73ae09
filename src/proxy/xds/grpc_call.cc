#include "proxy/xds/grpc_call.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "proxy/xds/grpc_frame.h"

namespace trellis::proxy::xds {

namespace asio = boost::asio;

namespace {

constexpr size_t kWriteChunk = 64 * 1024;

// grpc-message is percent-encoded (gRPC over HTTP/2, "Responses").
std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned value = 0;
    if (s[i] == '%' && i + 2 < s.size()) {
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

nghttp2_nv header(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

Result<GrpcTarget> parseGrpcTarget(std::string_view target) {
  GrpcTarget out;
  std::string_view t = target;
  if (t.starts_with("unix:")) {
    t.remove_prefix(5);
    if (t.starts_with("//")) t.remove_prefix(2);  // unix:///abs/path
    if (t.empty()) return invalidArgument(fmt::format("no socket path in target {}", target));
    out.unix_path = std::string(t);
    out.authority = "localhost";
    return out;
  }
  for (std::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (t.starts_with(scheme)) {
      t.remove_prefix(scheme.size());
      break;
    }
  }
  const auto colon = t.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return invalidArgument(fmt::format("target {} is not HOST:PORT", target));
  }
  std::string_view host = t.substr(0, colon);
  std::string_view port = t.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return invalidArgument(fmt::format("bad IPv6 address in target {}", target));
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalidArgument(fmt::format("IPv6 address in target {} needs brackets", target));
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return invalidArgument(fmt::format("bad port in target {}", target));
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  out.authority = std::string(t);
  return out;
}

class GrpcCall::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, GrpcCallOptions options, OnMessage on_message, OnEnd on_end)
      : io_(io),
        options_(std::move(options)),
        on_message_(std::move(on_message)),
        on_end_(std::move(on_end)),
        socket_(io),
        timer_(io),
        reader_(options_.max_message_bytes) {
    init_error_ = initSession();
  }
  ~Impl() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

  void start() {
    if (ended_) return;
    if (!init_error_.empty()) return finish({kGrpcInternal, init_error_, false});
    resolve();
    if (!ended_) connectTo(0);
  }

  void send(std::string_view message) {
    if (ended_) return;
    outgoing_ += encodeGrpcFrame(message);
    if (deferred_) {
      deferred_ = false;
      nghttp2_session_resume_data(session_, stream_id_);
    }
    flush();
  }

  // Ends the call: closes the socket now, runs on_end (if still set) from a fresh handler.
  void finish(GrpcCallEnd end) {
    if (ended_) return;
    ended_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
    asio::post(io_, [self = shared_from_this(), end = std::move(end)] {
      auto on_end = std::move(self->on_end_);
      self->on_end_ = nullptr;
      self->on_message_ = nullptr;
      if (on_end) on_end(end);
    });
  }

  void silence() {
    on_end_ = nullptr;
    on_message_ = nullptr;
    finish({kGrpcCancelled, "cancelled", false});
  }

 private:
  using Endpoint = asio::generic::stream_protocol::endpoint;

  std::string initSession() {
    nghttp2_session_callbacks* callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) return "out of memory";
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Impl::onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Impl::onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Impl::onDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Impl::onStreamClose);
    const int rv = nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0) return nghttp2_strerror(rv);

    // A window of a few hundred KiB lets a large snapshot arrive without waiting on
    // WINDOW_UPDATEs; nghttp2 sends those itself as data is consumed.
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(options_.window_bytes)},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, options_.window_bytes);

    std::vector<nghttp2_nv> headers = {
        header(":method", "POST"),
        header(":scheme", "http"),
        header(":path", options_.path),
        header(":authority", options_.target.authority),
        header("content-type", "application/grpc"),
        header("te", "trailers"),
    };
    for (const auto& [name, value] : options_.metadata) headers.push_back(header(name, value));
    nghttp2_data_provider body;
    body.source.ptr = this;
    body.read_callback = &Impl::readBody;
    stream_id_ =
        nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &body, this);
    if (stream_id_ < 0) return nghttp2_strerror(stream_id_);
    return "";
  }

  void resolve() {
    const auto& t = options_.target;
    if (!t.unix_path.empty()) {
      endpoints_.emplace_back(asio::local::stream_protocol::endpoint(t.unix_path));
      return;
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(t.host, ec);
    if (!ec) {
      endpoints_.emplace_back(asio::ip::tcp::endpoint(address, t.port));
      return;
    }
    // A name: resolved synchronously on this thread (an asynchronous resolve would start Asio's
    // resolver thread). Agents are local, so this is /etc/hosts or a nearby DNS server.
    asio::ip::tcp::resolver resolver(io_);
    auto results = resolver.resolve(t.host, std::to_string(t.port), ec);
    if (ec) {
      return finish({kGrpcUnavailable, fmt::format("resolve {}: {}", t.host, ec.message())});
    }
    for (const auto& r : results) endpoints_.emplace_back(r.endpoint());
  }

  void connectTo(size_t i) {
    if (i >= endpoints_.size()) {
      return finish({kGrpcUnavailable, fmt::format("connect to {}: {}", options_.target.authority,
                                                   last_connect_error_)});
    }
    boost::system::error_code ignored;
    socket_.close(ignored);
    armTimer(options_.connect_timeout, [this] {
      finish({kGrpcUnavailable,
              fmt::format("connect to {}: timed out after {} ms", options_.target.authority,
                          options_.connect_timeout.count())});
    });
    socket_.async_connect(endpoints_[i],
                          [self = shared_from_this(), i](const boost::system::error_code& ec) {
                            if (self->ended_) return;
                            if (ec) {
                              self->last_connect_error_ = ec.message();
                              return self->connectTo(i + 1);
                            }
                            self->onConnected();
                          });
  }

  void onConnected() {
    connected_ = true;
    if (options_.target.unix_path.empty()) {
      boost::system::error_code ignored;
      socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    armKeepalive();
    flush();
    read();
  }

  // One timer serves the connect timeout, then the keepalive; a generation number makes a
  // handler that was already queued when the timer was re-armed a no-op.
  template <typename F>
  void armTimer(std::chrono::milliseconds after, F fire) {
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), generation,
                       fire = std::move(fire)](const boost::system::error_code& ec) {
      if (ec || self->ended_ || generation != self->timer_generation_) return;
      fire();
    });
  }

  void armKeepalive() {
    armTimer(options_.keepalive_time, [this] {
      nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
      armTimer(options_.keepalive_timeout, [this] {
        finish({kGrpcUnavailable, fmt::format("no PING acknowledgement from the agent in {} ms",
                                              options_.keepalive_timeout.count())});
      });
      flush();
    });
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(read_buf_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
          if (!self->ended_) self->onRead(ec, n);
        });
  }

  void onRead(const boost::system::error_code& ec, size_t n) {
    if (ec) return finish(connectionLost(ec));
    const ssize_t rv = nghttp2_session_mem_recv(session_, read_buf_.data(), n);
    deliver();  // the messages completed before any error are good
    if (ended_) return;
    if (rv < 0) {
      if (local_error_) return finish(*local_error_);
      return finish({kGrpcInternal, fmt::format("HTTP/2: {}", nghttp2_strerror(rv)), true});
    }
    if (stream_closed_) return finish(streamEnd());
    if (ping_acked_) {
      ping_acked_ = false;
      armKeepalive();
    }
    flush();
    if (ended_) return;
    if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
      return finish({kGrpcUnavailable, "the agent ended the HTTP/2 session"});
    }
    read();
  }

  void deliver() {
    for (auto& message : inbox_) {
      if (ended_) break;
      if (!on_message_(std::move(message))) {
        finish({kGrpcInternal, "undecodable message from the agent", true});
      }
    }
    inbox_.clear();
  }

  void flush() {
    if (!connected_ || writing_ || ended_) return;
    write_buf_.clear();
    while (write_buf_.size() < kWriteChunk) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return finish({kGrpcInternal, fmt::format("HTTP/2: {}", nghttp2_strerror(n))});
      if (n == 0) break;
      write_buf_.append(reinterpret_cast<const char*>(data), n);
    }
    if (write_buf_.empty()) return;
    writing_ = true;
    asio::async_write(
        socket_, asio::buffer(write_buf_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
          self->writing_ = false;
          if (self->ended_) return;
          if (ec) {
            return self->finish({kGrpcUnavailable, fmt::format("write: {}", ec.message())});
          }
          self->flush();
        });
  }

  GrpcCallEnd connectionLost(const boost::system::error_code& ec) const {
    std::string message = ec == asio::error::eof ? "the agent closed the connection"
                                                 : fmt::format("read: {}", ec.message());
    if (reader_.pending() > 0) {
      message += fmt::format(" mid-message ({} bytes of {})", reader_.pending(),
                             reader_.expected() + kGrpcPrefixBytes);
    }
    return {kGrpcUnavailable, std::move(message), false};
  }

  GrpcCallEnd streamEnd() const {
    if (grpc_status_) return {*grpc_status_, grpc_message_, false};
    if (stream_error_code_ != NGHTTP2_NO_ERROR) {
      return {kGrpcUnavailable, fmt::format("stream reset by the agent: {}",
                                            nghttp2_http2_strerror(stream_error_code_))};
    }
    return {kGrpcInternal, "stream ended without a grpc-status", true};
  }

  // nghttp2 callbacks: they only record what arrived; reactions happen after mem_recv returns.
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != self.stream_id_) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      std::from_chars(v.data(), v.data() + v.size(), self.http_status_);
    } else if (n == "content-type") {
      self.content_type_ = std::string(v);
    } else if (n == "grpc-status") {
      int code = kGrpcUnknown;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), code);
      self.grpc_status_ = ec == std::errc() && p == v.data() + v.size() ? code : kGrpcUnknown;
    } else if (n == "grpc-message") {
      self.grpc_message_ = percentDecode(v);
    }
    return 0;
  }

  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) {
      self.ping_acked_ = true;
    } else if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == self.stream_id_ &&
               frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
      if (self.http_status_ != 200) {
        self.local_error_ =
            GrpcCallEnd{kGrpcUnavailable,
                        fmt::format("HTTP status {} from the agent", self.http_status_), true};
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      if (!self.content_type_.starts_with("application/grpc")) {
        self.local_error_ =
            GrpcCallEnd{kGrpcUnknown,
                        fmt::format("content-type '{}' from the agent", self.content_type_), true};
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    return 0;
  }

  static int onDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (stream_id != self.stream_id_) return 0;
    Status s =
        self.reader_.feed(std::string_view(reinterpret_cast<const char*>(data), len), self.inbox_);
    if (!s) {
      self.local_error_ = GrpcCallEnd{
          s.code() == Code::kTooLarge ? kGrpcResourceExhausted : kGrpcInternal, s.message(), true};
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (stream_id == self.stream_id_) {
      self.stream_closed_ = true;
      self.stream_error_code_ = error_code;
    }
    return 0;
  }

  // The request body: queued frames, then "deferred" until send() resumes it. Never ends: the
  // stream is half-closed by neither side while the call lives.
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t*,
                          nghttp2_data_source*, void* user) {
    auto& self = *static_cast<Impl*>(user);
    const size_t available = self.outgoing_.size() - self.outgoing_offset_;
    if (available == 0) {
      self.deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    const size_t n = std::min(length, available);
    std::memcpy(buf, self.outgoing_.data() + self.outgoing_offset_, n);
    self.outgoing_offset_ += n;
    if (self.outgoing_offset_ == self.outgoing_.size()) {
      self.outgoing_.clear();
      self.outgoing_offset_ = 0;
    }
    return static_cast<ssize_t>(n);
  }

  asio::io_context& io_;
  const GrpcCallOptions options_;
  OnMessage on_message_;
  OnEnd on_end_;
  asio::generic::stream_protocol::socket socket_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  std::vector<Endpoint> endpoints_;
  std::string last_connect_error_ = "no address";
  std::string init_error_;

  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = -1;
  std::string outgoing_;  // framed messages not yet taken by nghttp2
  size_t outgoing_offset_ = 0;
  bool deferred_ = false;
  std::string write_buf_;
  bool writing_ = false;
  std::array<uint8_t, 16 * 1024> read_buf_;

  GrpcFrameReader reader_;
  std::vector<std::string> inbox_;  // messages completed during one mem_recv
  int http_status_ = 0;
  std::string content_type_;
  std::optional<int> grpc_status_;
  std::string grpc_message_;
  bool stream_closed_ = false;
  uint32_t stream_error_code_ = 0;
  std::optional<GrpcCallEnd> local_error_;
  bool connected_ = false;
  bool ping_acked_ = false;
  bool ended_ = false;
};

GrpcCall::GrpcCall(asio::io_context& io, GrpcCallOptions options, OnMessage on_message,
                   OnEnd on_end)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(on_message),
                                   std::move(on_end))) {}

GrpcCall::~GrpcCall() { impl_->silence(); }

void GrpcCall::start() { impl_->start(); }

void GrpcCall::send(std::string_view message) { impl_->send(message); }

void GrpcCall::cancel() { impl_->finish({kGrpcCancelled, "cancelled", false}); }

}  // namespace trellis::proxy::xds
