#pragma once
// Resolve-and-connect shared by the TCP and HTTP checks, with error texts shaped like Go's net
// package ("dial tcp 127.0.0.1:1: connect: connection refused") because Consul users grep check
// output for them.

#include <utility>  // Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trellis::agent::checks {

struct HostPort {
  std::string host;  // without brackets
  std::string port;
};

// Like Go's net.SplitHostPort; the error message is Go's ("address x: missing port in address").
Result<HostPort> splitHostPort(std::string_view address);
// "host:port", bracketing IPv6 literals.
std::string joinHostPort(std::string_view host, std::string_view port);
// strerror-style text in Go's lower case ("connection refused").
std::string errorText(const boost::system::error_code& ec);

// Resolves `target` (IP literals skip the resolver) and connects `socket` to the first endpoint
// that accepts. Returns "" on success (or when halted), otherwise a Go-style error. `halted` is
// checked after every suspension: the caller's timeout or cancel sets it, cancels the resolver
// and closes the socket.
boost::asio::awaitable<std::string> dial(boost::asio::ip::tcp::resolver& resolver,
                                         boost::asio::ip::tcp::socket& socket,
                                         const HostPort& target, const bool& halted);

}  // namespace trellis::agent::checks
