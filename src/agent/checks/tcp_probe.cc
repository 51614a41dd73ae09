#include <utility>  // Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/checks/dial.h"
#include "agent/checks/probe.h"

namespace trellis::agent::checks {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::chrono::seconds kDefaultTimeout{10};

class TcpProbe : public Probe {
 public:
  TcpProbe(asio::io_context& io, std::shared_ptr<const CheckSpec> spec, HostPort target)
      : io_(io),
        spec_(std::move(spec)),
        target_(std::move(target)),
        resolver_(io),
        socket_(io),
        deadline_(io) {}

 protected:
  void begin() override {
    auto self = std::static_pointer_cast<TcpProbe>(shared_from_this());
    auto timeout = spec_->timeout.count() > 0 ? spec_->timeout : kDefaultTimeout;
    deadline_.expires_after(timeout);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->halted_) return;
      self->halt();
      self->finish({kCritical, "dial tcp " + self->spec_->tcp + ": i/o timeout"});
    });
    asio::co_spawn(io_, run(self), [self](std::exception_ptr e) {
      if (e) self->finish({kCritical, "internal error running TCP check"});
    });
  }

  void abort() override { halt(); }

 private:
  static asio::awaitable<void> run(std::shared_ptr<TcpProbe> self) {
    std::string error = co_await dial(self->resolver_, self->socket_, self->target_, self->halted_);
    if (self->halted_) co_return;
    self->halt();
    if (!error.empty()) {
      self->finish({kCritical, std::move(error)});
    } else {
      self->finish({kPassing, "TCP connect " + self->spec_->tcp + ": Success"});
    }
  }

  void halt() {
    halted_ = true;
    deadline_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  asio::io_context& io_;
  std::shared_ptr<const CheckSpec> spec_;
  HostPort target_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  bool halted_ = false;
};

}  // namespace

ProbeFactory makeTcpProbeFactory(asio::io_context& io, std::shared_ptr<const CheckSpec> spec) {
  Result<HostPort> target = splitHostPort(spec->tcp);
  if (!target) {
    CheckResult invalid{kCritical, "dial tcp: " + target.status().message()};
    return [&io, invalid] { return makeFixedProbe(io, invalid); };
  }
  return [&io, spec, hp = *target] { return std::make_shared<TcpProbe>(io, spec, hp); };
}

}  // namespace trellis::agent::checks
