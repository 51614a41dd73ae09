#pragma once
// Forwards a query that is not ours to the configured recursors over UDP, one at a time
// (sequential, or in a random order per query), each with the recursor timeout, and returns the
// first well-formed reply with the query's ID. Runs on the core loop; never blocks it.

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "dns/config.h"

namespace trellis::dns {

class Forwarder {
 public:
  Forwarder(boost::asio::io_context& io, const DnsConfig& cfg, std::mt19937& rng)
      : io_(io), cfg_(cfg), rng_(rng) {}

  // The recursor's reply bytes, or nullopt when none answered in time.
  boost::asio::awaitable<std::optional<std::string>> forward(std::string query);

 private:
  boost::asio::awaitable<std::optional<std::string>> ask(const Recursor& r,
                                                         const std::string& query);
  boost::asio::io_context& io_;
  const DnsConfig& cfg_;
  std::mt19937& rng_;
};

// A SERVFAIL answer to `query` (which parsed), for when forwarding failed.
std::string servfail(std::string_view query);

}  // namespace trellis::dns
