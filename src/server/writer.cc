#include "server/writer.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>

namespace trellis::server {

boost::asio::awaitable<Result<consensus::Applied>> Writer::submit(const pb::Command& cmd) {
  struct Pending {
    explicit Pending(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::optional<Result<consensus::Applied>> result;
  };
  auto pending = std::make_shared<Pending>(io_);
  log_.append(cmd.SerializeAsString(), [pending](Result<consensus::Applied> r) {
    pending->result.emplace(std::move(r));
    pending->timer.cancel();
  });
  while (!pending->result) {
    pending->timer.expires_at(boost::asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await pending->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  co_return std::move(*pending->result);
}

Status appliedStatus(const Result<consensus::Applied>& r) {
  if (!r) return r.status();
  if (const Status* s = std::any_cast<Status>(&r->result)) return *s;
  return Status::ok();
}

}  // namespace trellis::server
