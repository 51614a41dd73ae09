#pragma once
// Parking a request: a blocking query waits here until its watch fires, its deadline passes or
// its client hangs up, whichever comes first. One steady_timer per parked request; waking it is
// cancelling the timer. Runs on the core loop only.

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "http/types.h"

namespace trellis::http {

class Parker {
 public:
  Parker(boost::asio::any_io_executor ex, Exchange& exchange) : timer_(ex), exchange_(exchange) {
    auto alive = alive_;
    exchange_.onClientGone([this, alive] {
      if (*alive) wake();
    });
  }
  ~Parker() { *alive_ = false; }

  // Safe to call before wait(): the next wait returns at once.
  void wake() {
    woken_ = true;
    timer_.cancel();
  }

  // Returns true when woken (watch fired or client gone), false on timeout.
  boost::asio::awaitable<bool> wait(std::chrono::steady_clock::time_point deadline) {
    if (woken_ || exchange_.clientGone()) {
      woken_ = false;
      co_return true;
    }
    timer_.expires_at(deadline);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    bool woke = woken_;
    woken_ = false;
    co_return woke;
  }

 private:
  boost::asio::steady_timer timer_;
  Exchange& exchange_;
  bool woken_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace trellis::http
