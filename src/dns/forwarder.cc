#include "dns/forwarder.h"

#include <algorithm>
#include <memory>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "dns/message.h"

namespace trellis::dns {

namespace asio = boost::asio;
using asio::ip::udp;

asio::awaitable<std::optional<std::string>> Forwarder::forward(std::string query) {
  std::vector<const Recursor*> order;
  for (const auto& r : cfg_.recursors) order.push_back(&r);
  if (cfg_.recursor_random) std::shuffle(order.begin(), order.end(), rng_);
  for (const Recursor* r : order) {
    auto reply = co_await ask(*r, query);
    if (reply) co_return reply;
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> Forwarder::ask(const Recursor& r,
                                                           const std::string& query) {
  boost::system::error_code ec;
  udp::endpoint to(asio::ip::make_address(r.address, ec), r.port);
  if (ec) co_return std::nullopt;
  // Shared with the timer's handler, which may run after this frame is gone.
  auto sock = std::make_shared<udp::socket>(io_);
  sock->open(to.protocol(), ec);
  if (!ec) sock->send_to(asio::buffer(query), to, 0, ec);
  if (ec) {
    TLOG_DEBUG("dns: recursor {}:{}: {}", r.address, r.port, ec.message());
    co_return std::nullopt;
  }
  asio::steady_timer timer(io_, cfg_.recursor_timeout);
  timer.async_wait([sock](boost::system::error_code tec) {
    if (!tec) {
      boost::system::error_code ignored;
      sock->close(ignored);
    }
  });
  auto want = parseHeader(query);
  std::string buf(65535, '\0');
  while (true) {
    udp::endpoint from;
    size_t n = co_await sock->async_receive_from(asio::buffer(buf), from,
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      TLOG_DEBUG("dns: recursor {}:{} gave no answer: {}", r.address, r.port, ec.message());
      co_return std::nullopt;
    }
    auto got = parseHeader(std::string_view(buf.data(), n));
    // Ignore strays: only a response from the recursor with our ID counts.
    if (from != to || !got || !got->qr || !want || got->id != want->id) continue;
    timer.cancel();
    buf.resize(n);
    co_return buf;
  }
}

std::string servfail(std::string_view query) {
  auto q = parse(query);
  if (!q) return "";
  Message r;
  r.header = q->header;
  r.header.qr = true;
  r.header.ra = true;
  r.header.aa = false;
  r.header.rcode = rcode::kServFail;
  r.questions = q->questions;
  return encode(r);
}

}  // namespace trellis::dns
