#include "http/server.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include "common/log.h"

namespace trellis::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

struct Server::Impl {
  asio::io_context& io;
  ServerOptions options;
  Handler handler;
  tcp::acceptor acceptor{io};
  std::list<std::weak_ptr<tcp::socket>> sockets;
  size_t active = 0;
  bool stopped = false;

  Impl(asio::io_context& io_in, ServerOptions o, Handler h)
      : io(io_in), options(o), handler(std::move(h)) {}

  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> sock);
};

Server::Server(asio::io_context& io, ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(io, options, std::move(handler))) {}

Server::~Server() { stop(); }

Status Server::listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return invalidArgument("invalid listen address " + address);
  tcp::endpoint ep(addr, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::kUnavailable,
                  "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  asio::co_spawn(impl_->io, impl_->acceptLoop(), asio::detached);
  return Status::ok();
}

uint16_t Server::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

size_t Server::activeConnections() const { return impl_->active; }

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& w : impl_->sockets) {
    if (auto s = w.lock()) s->close(ec);
  }
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  while (!stopped) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) break;
      TLOG_WARN("http: accept failed: {}", ec.message());
      // Out of file descriptors (or similar): back off instead of spinning on the error.
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    s.set_option(tcp::no_delay(true), ec);
    auto sock = std::make_shared<tcp::socket>(std::move(s));
    sockets.remove_if([](const auto& w) { return w.expired(); });
    sockets.push_back(sock);
    asio::co_spawn(io, serve(std::move(sock)), asio::detached);
  }
}

namespace {

Request toRequest(const bhttp::request<bhttp::string_body>& m, const tcp::socket* sock) {
  Request r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  std::string_view t = r.target;
  size_t q = t.find('?');
  r.raw_path = std::string(t.substr(0, q));
  r.path = percentDecode(r.raw_path, false);
  if (q != std::string_view::npos) r.query = parseQuery(t.substr(q + 1));
  for (const auto& f : m) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  r.body = m.body();
  if (sock != nullptr) {
    boost::system::error_code ec;
    auto ep = sock->remote_endpoint(ec);
    if (!ec) r.remote_address = ep.address().to_string();
  }
  return r;
}

// Starts watching `sock` for EOF/reset while a handler runs; `gone` is set and `cb` called once
// if the peer hangs up. A readable socket with data (a pipelined request) is not a hang-up.
void watchPeer(std::shared_ptr<tcp::socket> sock, std::shared_ptr<bool> gone,
               std::shared_ptr<bool> done, std::function<void()> cb) {
  sock->async_wait(tcp::socket::wait_read,
                   [sock, gone, done, cb = std::move(cb)](boost::system::error_code ec) {
                     if (*done || ec == asio::error::operation_aborted) return;
                     char byte;
                     ssize_t n = ::recv(sock->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
                     if (ec || n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                       *gone = true;
                       cb();
                     }
                   });
}

}  // namespace

Result<Request> parseRequest(std::string_view raw, const ServerOptions& options) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(options.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  boost::system::error_code ec;
  while (!ec && !parser.is_done() && !raw.empty()) {
    size_t used = parser.put(asio::buffer(raw.data(), raw.size()), ec);
    if (ec == bhttp::error::need_more) ec = {};
    if (used == 0) break;
    raw.remove_prefix(used);
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec) return invalidArgument("Bad request: " + ec.message());
  if (!parser.is_done()) return invalidArgument("Bad request: incomplete message");
  return toRequest(parser.get(), nullptr);
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<tcp::socket> sock) {
  ++active;
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    boost::system::error_code ec;
    co_await bhttp::async_read(*sock, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        bhttp::response<bhttp::string_body> res{bhttp::status::payload_too_large, 11};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.body() = "Request body too large, max size: " + std::to_string(options.max_body_bytes) +
                     " bytes";
        res.keep_alive(false);
        res.prepare_payload();
        co_await bhttp::async_write(*sock, res, asio::redirect_error(asio::use_awaitable, ec));
      } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
                 ec != asio::error::connection_reset && ec != asio::error::operation_aborted &&
                 ec != asio::error::bad_descriptor) {
        bhttp::response<bhttp::string_body> res{bhttp::status::bad_request, 11};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.body() = "Bad request: " + ec.message();
        res.keep_alive(false);
        res.prepare_payload();
        co_await bhttp::async_write(*sock, res, asio::redirect_error(asio::use_awaitable, ec));
      }
      break;
    }
    auto& msg = parser.get();
    bool keep_alive = msg.keep_alive();
    unsigned version = msg.version();

    Exchange ex;
    ex.request = toRequest(msg, sock.get());
    ex.client_gone_ = std::make_shared<bool>(false);
    auto done = std::make_shared<bool>(false);
    bool watching = false;
    ex.watch_client_ = [&, gone = ex.client_gone_, done](std::function<void()> cb) {
      if (watching) return;
      watching = true;
      watchPeer(sock, gone, done, std::move(cb));
    };

    Response resp;
    try {
      resp = co_await handler(ex);
    } catch (const std::exception& e) {
      TLOG_ERROR("http: handler for {} {} threw: {}", ex.request.method, ex.request.path, e.what());
      resp = Response::text(500, "internal error");
    }
    *done = true;
    if (watching) {
      // Cancel the pending wait on the socket before reading from it again.
      sock->cancel(ec);
    }
    if (*ex.client_gone_) break;

    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(resp.status), version};
    for (auto& [k, v] : resp.headers) res.set(k, v);
    res.body() = std::move(resp.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    co_await bhttp::async_write(*sock, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive || stopped) break;
  }
  boost::system::error_code ignored;
  sock->shutdown(tcp::socket::shutdown_both, ignored);
  sock->close(ignored);
  --active;
}

}  // namespace trellis::http
