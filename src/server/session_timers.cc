#include "server/session_timers.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/duration.h"
#include "common/log.h"

namespace trellis::server {

namespace asio = boost::asio;

void SessionTimers::reset(const std::string& id, std::chrono::nanoseconds ttl) {
  if (ttl.count() <= 0) {
    clear(id);
    return;
  }
  auto& timer = timers_[id];
  timer = std::make_unique<asio::steady_timer>(io_);
  timer->expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(ttl * 2));
  auto alive = alive_;
  asio::steady_timer* raw = timer.get();
  timer->async_wait([this, alive, id, raw](boost::system::error_code ec) {
    if (ec || !*alive) return;
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second.get() != raw) return;
    timers_.erase(it);
    TLOG_INFO("session: {} expired (TTL)", id);
    asio::co_spawn(
        io_,
        [this, id]() -> asio::awaitable<void> {
          pb::Command cmd;
          cmd.mutable_session()->set_op("destroy");
          cmd.mutable_session()->mutable_session()->set_id(id);
          auto r = co_await writer_.submit(cmd);
          if (!r) TLOG_WARN("session: expiring {} failed: {}", id, r.status().message());
        },
        asio::detached);
  });
}

void SessionTimers::rebuild(const state::Store& store) {
  timers_.clear();
  for (const auto& [id, s] : store.sessions()) {
    if (auto ttl = parseGoDuration(s.ttl())) reset(id, *ttl);
  }
}

}  // namespace trellis::server
