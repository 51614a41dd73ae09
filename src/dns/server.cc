#include "dns/server.h"

#include <chrono>
#include <list>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"
#include "dns/answer.h"
#include "dns/forwarder.h"

namespace trellis::dns {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {
constexpr auto kTcpIdleTimeout = std::chrono::seconds(10);
constexpr size_t kMaxTcpConnections = 256;
constexpr int kUdpBatch = 64;  // datagrams drained per wake-up before yielding to other work
}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, const state::Store& store, DnsConfig config)
      : io(io),
        store(store),
        cfg(std::move(config)),
        rng(std::random_device{}()),
        forwarder(io, cfg, rng),
        udp_socket(io),
        acceptor(io) {}

  AnswerContext context(Transport t) {
    AnswerContext ctx;
    ctx.transport = t;
    ctx.now_unix = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    ctx.rng = &rng;
    return ctx;
  }

  asio::awaitable<void> udpLoop();
  void handleUdp(std::string_view packet, const udp::endpoint& from);
  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> serveTcp(std::shared_ptr<tcp::socket> sock);

  asio::io_context& io;
  const state::Store& store;
  DnsConfig cfg;
  std::mt19937 rng;
  Forwarder forwarder;
  udp::socket udp_socket;
  tcp::acceptor acceptor;
  std::list<std::weak_ptr<tcp::socket>> connections;
  std::string udp_buf = std::string(65535, '\0');
  AnswerCache cache;
  ServerStats stats;
  bool stopped = false;
};

Server::Server(asio::io_context& io, const state::Store& store, DnsConfig cfg)
    : impl_(std::make_shared<Impl>(io, store, std::move(cfg))) {}

Server::~Server() { stop(); }

Status Server::listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return invalidArgument("invalid DNS listen address " + address);
  auto fail = [&](const char* proto, uint16_t p) {
    return Status(Code::kUnavailable, std::string("cannot listen for DNS on ") + proto + " " +
                                          address + ":" + std::to_string(p) + ": " + ec.message());
  };
  // With port 0 the UDP port is picked first and TCP may find it taken: try a few times.
  for (int attempt = 0; attempt < 8; ++attempt) {
    udp::endpoint uep(addr, port);
    impl_->udp_socket.open(uep.protocol(), ec);
    if (!ec) impl_->udp_socket.bind(uep, ec);
    if (ec) return fail("udp", port);
    uint16_t bound = impl_->udp_socket.local_endpoint().port();
    tcp::endpoint tep(addr, bound);
    impl_->acceptor.open(tep.protocol(), ec);
    if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl_->acceptor.bind(tep, ec);
    if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) break;
    boost::system::error_code ignored;
    impl_->udp_socket.close(ignored);
    impl_->acceptor.close(ignored);
    if (port != 0) return fail("tcp", bound);
  }
  if (ec) return fail("tcp", port);
  impl_->udp_socket.non_blocking(true, ec);
  auto self = impl_;
  asio::co_spawn(
      impl_->io, [self] { return self->udpLoop(); }, asio::detached);
  asio::co_spawn(
      impl_->io, [self] { return self->acceptLoop(); }, asio::detached);
  return Status::ok();
}

uint16_t Server::port() const {
  boost::system::error_code ec;
  auto ep = impl_->udp_socket.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

const ServerStats& Server::stats() const { return impl_->stats; }

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->udp_socket.close(ec);
  impl_->acceptor.close(ec);
  for (auto& w : impl_->connections) {
    if (auto s = w.lock()) s->close(ec);
  }
}

// Waits for readability, then drains queued datagrams with non-blocking reads: one wake-up per
// burst instead of one per packet.
asio::awaitable<void> Server::Impl::udpLoop() {
  auto self = shared_from_this();
  while (!stopped) {
    boost::system::error_code ec;
    co_await udp_socket.async_wait(udp::socket::wait_read,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (stopped || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
    for (int i = 0; i < kUdpBatch; ++i) {
      udp::endpoint from;
      size_t n = udp_socket.receive_from(asio::buffer(udp_buf), from, 0, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) continue;  // e.g. ICMP errors surfaced on the socket
      handleUdp(std::string_view(udp_buf.data(), n), from);
    }
  }
}

void Server::Impl::handleUdp(std::string_view packet, const udp::endpoint& from) {
  ++stats.udp_queries;
  WireAnswer a = answerPacket(packet, store, cfg, context(Transport::kUdp), &cache);
  boost::system::error_code ec;
  switch (a.action) {
    case Answer::Action::kReply:
      // A full send buffer drops the reply: the client retries, as over any lossy path.
      udp_socket.send_to(asio::buffer(a.bytes), from, 0, ec);
      return;
    case Answer::Action::kDrop:
      ++stats.dropped;
      return;
    case Answer::Action::kForward:
      ++stats.forwarded;
      asio::co_spawn(
          io,
          [self = shared_from_this(), query = std::string(packet),
           from]() -> asio::awaitable<void> {
            auto reply = co_await self->forwarder.forward(query);
            std::string out = reply ? std::move(*reply) : servfail(query);
            boost::system::error_code sec;
            if (!self->stopped && !out.empty()) {
              self->udp_socket.send_to(asio::buffer(out), from, 0, sec);
            }
          },
          asio::detached);
      return;
  }
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  auto self = shared_from_this();
  while (!stopped) {
    boost::system::error_code ec;
    auto sock = std::make_shared<tcp::socket>(io);
    co_await acceptor.async_accept(*sock, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) break;
      continue;
    }
    std::erase_if(connections, [](const auto& w) { return w.expired(); });
    if (connections.size() >= kMaxTcpConnections) {
      sock->close(ec);
      continue;
    }
    connections.push_back(sock);
    asio::co_spawn(io, serveTcp(std::move(sock)), asio::detached);
  }
}

// RFC 1035 4.2.2 / RFC 7766: two-byte length prefix, several queries per connection, closed
// after an idle period.
asio::awaitable<void> Server::Impl::serveTcp(std::shared_ptr<tcp::socket> sock) {
  auto self = shared_from_this();
  asio::steady_timer idle(io);
  std::string buf;
  while (!stopped) {
    idle.expires_after(kTcpIdleTimeout);
    idle.async_wait([sock](boost::system::error_code ec) {
      if (!ec) sock->close(ec);
    });
    boost::system::error_code ec;
    uint8_t len_bytes[2];
    co_await asio::async_read(*sock, asio::buffer(len_bytes),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    size_t len = (static_cast<size_t>(len_bytes[0]) << 8) | len_bytes[1];
    buf.resize(len);
    co_await asio::async_read(*sock, asio::buffer(buf),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    idle.cancel();
    ++stats.tcp_queries;
    WireAnswer a = answerPacket(buf, store, cfg, context(Transport::kTcp), &cache);
    std::string out;
    if (a.action == Answer::Action::kReply) {
      out = std::move(a.bytes);
    } else if (a.action == Answer::Action::kForward) {
      ++stats.forwarded;
      auto reply = co_await forwarder.forward(buf);
      out = reply ? std::move(*reply) : servfail(buf);
    } else {
      ++stats.dropped;
      break;
    }
    if (out.empty() || out.size() > 65535) break;
    std::string framed;
    framed.reserve(out.size() + 2);
    framed.push_back(static_cast<char>(out.size() >> 8));
    framed.push_back(static_cast<char>(out.size() & 0xFF));
    framed += out;
    co_await asio::async_write(*sock, asio::buffer(framed),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  idle.cancel();
  boost::system::error_code ignored;
  sock->close(ignored);
}

}  // namespace trellis::dns
