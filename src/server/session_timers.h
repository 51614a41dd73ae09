#pragma once
// Leader duty: session TTLs. A session with a TTL is invalidated (a destroy command through the
// log) when it goes unrenewed for twice its TTL, as Consul does. Timers live only on the server
// that leads; they are rebuilt from the state store when it starts.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "server/writer.h"
#include "state/store.h"

namespace trellis::server {

class SessionTimers {
 public:
  SessionTimers(boost::asio::io_context& io, Writer& writer) : io_(io), writer_(writer) {}
  ~SessionTimers() { *alive_ = false; }

  // (Re)arms the timer of session `id` for 2 x ttl. A zero ttl clears it.
  void reset(const std::string& id, std::chrono::nanoseconds ttl);
  void clear(const std::string& id) { timers_.erase(id); }
  // Arms timers for every session in the store that has a TTL (after a restart).
  void rebuild(const state::Store& store);
  size_t size() const { return timers_.size(); }

 private:
  boost::asio::io_context& io_;
  Writer& writer_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace trellis::server
