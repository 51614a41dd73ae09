#include "agent/checks/runner.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <random>

#include "agent/checks/flap.h"
#include "agent/checks/probe.h"

namespace trellis::agent::checks {
namespace {

namespace asio = boost::asio;
using std::chrono::nanoseconds;

constexpr nanoseconds kMinInterval = std::chrono::milliseconds(1);

class FixedProbe : public Probe {
 public:
  FixedProbe(asio::io_context& io, CheckResult result) : io_(io), result_(std::move(result)) {}

 protected:
  void begin() override {
    // Always report from a fresh handler so callers never see re-entrant callbacks.
    asio::post(io_, [self = shared_from_this(), this] { finish(result_); });
  }
  void abort() override {}

 private:
  asio::io_context& io_;
  CheckResult result_;
};

class PeriodicRunner : public Runner {
 public:
  PeriodicRunner(asio::io_context& io, std::shared_ptr<const CheckSpec> spec, ResultFn on_result,
                 ProbeFactory factory, RunnerOptions options)
      : spec_(std::move(spec)),
        on_result_(std::move(on_result)),
        factory_(std::move(factory)),
        options_(options),
        timer_(io),
        damper_(spec_->success_before_passing, spec_->failures_before_warning,
                spec_->failures_before_critical),
        rng_(options.seed ? *options.seed : std::random_device{}()) {}

  ~PeriodicRunner() override { stop(); }

  void start() override {
    if (alive_) return;
    alive_ = std::make_shared<char>();
    nanoseconds cap = std::min(interval(), options_.max_stagger);
    nanoseconds stagger{0};
    if (cap.count() > 0) {
      stagger = nanoseconds(std::uniform_int_distribution<int64_t>(0, cap.count() - 1)(rng_));
    }
    schedule(stagger);
  }

  void stop() override {
    // Dropping the token orphans every queued handler, even one whose wait already completed.
    alive_.reset();
    timer_.cancel();
    if (inflight_) {
      std::shared_ptr<Probe> probe = std::move(inflight_);
      probe->cancel();
    }
  }

 private:
  nanoseconds interval() const { return std::max(spec_->interval, kMinInterval); }

  void schedule(nanoseconds delay) {
    timer_.expires_after(delay);
    std::weak_ptr<char> token = alive_;
    timer_.async_wait([this, token](const boost::system::error_code& ec) {
      if (ec || token.expired()) return;
      runOnce();
    });
  }

  void runOnce() {
    // Hold our own reference: a probe may finish before start() returns.
    std::shared_ptr<Probe> probe = factory_();
    inflight_ = probe;
    std::weak_ptr<char> token = alive_;
    probe->start([this, token](CheckResult result) {
      if (token.expired()) return;
      onDone(std::move(result));
    });
  }

  void onDone(CheckResult result) {
    inflight_.reset();
    schedule(interval());
    std::optional<CheckResult> reported = damper_.filter(std::move(result));
    if (!reported) return;
    // The callback may destroy this runner: call a copy and touch nothing afterwards.
    ResultFn cb = on_result_;
    cb(*reported);
  }

  std::shared_ptr<const CheckSpec> spec_;
  ResultFn on_result_;
  ProbeFactory factory_;
  RunnerOptions options_;
  asio::steady_timer timer_;
  FlapDamper damper_;
  std::mt19937_64 rng_;
  std::shared_ptr<char> alive_;  // non-null while started
  std::shared_ptr<Probe> inflight_;
};

}  // namespace

std::shared_ptr<Probe> makeFixedProbe(asio::io_context& io, CheckResult result) {
  return std::make_shared<FixedProbe>(io, std::move(result));
}

std::unique_ptr<Runner> makeRunner(asio::io_context& io, CheckSpec spec, ResultFn on_result,
                                   RunnerOptions options) {
  auto shared = std::make_shared<const CheckSpec>(std::move(spec));
  ProbeFactory factory;
  if (shared->kind == "http") {
    factory = makeHttpProbeFactory(io, shared);
  } else if (shared->kind == "tcp") {
    factory = makeTcpProbeFactory(io, shared);
  } else if (shared->kind == "script") {
    factory = makeScriptProbeFactory(io, shared);
  } else {
    return nullptr;
  }
  return std::make_unique<PeriodicRunner>(io, std::move(shared), std::move(on_result),
                                          std::move(factory), options);
}

}  // namespace trellis::agent::checks
