#pragma once
// The DNS listeners: UDP and TCP on one port, on the core io_context, answering from the state
// store on that same thread (no locks, no copies) and forwarding names outside our domains to
// the configured recursors without blocking the loop.
//
// Threading: construct, listen, stop and destroy on the core loop's thread (or before it runs).
// Work in flight keeps the internals alive until it finishes or the io_context is destroyed.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange

#include <boost/asio/io_context.hpp>

#include "common/status.h"
#include "dns/config.h"
#include "state/store.h"

namespace trellis::dns {

struct ServerStats {
  uint64_t udp_queries = 0;
  uint64_t tcp_queries = 0;
  uint64_t forwarded = 0;
  uint64_t dropped = 0;  // runts and responses sent to us
};

class Server {
 public:
  Server(boost::asio::io_context& io, const state::Store& store, DnsConfig cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds UDP and TCP on address:port (port 0: a free port, the same for both; see port()).
  Status listen(const std::string& address, uint16_t port);
  uint16_t port() const;
  // Closes the listeners and open TCP connections; forwarded queries in flight are dropped.
  void stop();
  const ServerStats& stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace trellis::dns
