#include "agent/checks/dial.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>

namespace trellis::agent::checks {

namespace asio = boost::asio;
using asio::ip::tcp;

Result<HostPort> splitHostPort(std::string_view address) {
  auto fail = [&](std::string_view why) {
    return invalidArgument("address " + std::string(address) + ": " + std::string(why));
  };
  HostPort out;
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return fail("missing port in address");
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos) return fail("missing ']' in address");
    if (close + 1 == address.size()) return fail("missing port in address");
    if (close + 1 != colon) return fail("too many colons in address");
    out.host = std::string(address.substr(1, close - 1));
  } else {
    out.host = std::string(address.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return fail("too many colons in address");
  }
  out.port = std::string(address.substr(colon + 1));
  return out;
}

std::string joinHostPort(std::string_view host, std::string_view port) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::string(port);
  }
  return std::string(host) + ":" + std::string(port);
}

std::string errorText(const boost::system::error_code& ec) {
  std::string text = ec.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

asio::awaitable<std::string> dial(tcp::resolver& resolver, tcp::socket& socket,
                                  const HostPort& target, const bool& halted) {
  const std::string host = target.host.empty() ? "localhost" : target.host;
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  asio::ip::address literal = asio::ip::make_address(host, ec);
  if (!ec) {
    char* end = nullptr;
    unsigned long port = std::strtoul(target.port.c_str(), &end, 10);
    if (target.port.empty() || *end != '\0' || port > 65535) {
      co_return "dial tcp: address " + target.port + ": invalid port";
    }
    endpoints.emplace_back(literal, static_cast<unsigned short>(port));
  } else {
    auto results = co_await resolver.async_resolve(host, target.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (halted) co_return "";
    if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) {
      co_return "dial tcp: lookup " + host + ": no such host";
    }
    if (ec) co_return "dial tcp: lookup " + host + ": " + errorText(ec);
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) co_return "dial tcp: lookup " + host + ": no such host";
  }
  std::string last;
  for (const tcp::endpoint& ep : endpoints) {
    socket.close(ec);
    co_await socket.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (halted) co_return "";
    if (!ec) co_return "";
    last = "dial tcp " + joinHostPort(ep.address().to_string(), std::to_string(ep.port())) +
           ": connect: " + errorText(ec);
  }
  co_return last;
}

}  // namespace trellis::agent::checks
