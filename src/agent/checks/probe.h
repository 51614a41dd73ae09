#pragma once
// One run of a check. The runner creates a fresh Probe per run through a ProbeFactory and keeps
// it until `done` fires or the run is cancelled. Probes keep themselves alive (shared_from_this
// in their handlers) until their last handler has run, so cancel() never has to wait.

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/checks/runner.h"

namespace trellis::agent::checks {

using DoneFn = std::function<void(CheckResult)>;

class Probe : public std::enable_shared_from_this<Probe> {
 public:
  virtual ~Probe() = default;
  // Starts the run; `done` is called exactly once, from a handler on the loop, unless cancel()
  // comes first. The probe enforces the spec's timeout itself.
  void start(DoneFn done) {
    done_ = std::move(done);
    begin();
  }
  // Aborts the run: `done` is never called afterwards.
  void cancel() {
    done_ = nullptr;
    abort();
  }

 protected:
  virtual void begin() = 0;
  virtual void abort() = 0;
  bool active() const { return static_cast<bool>(done_); }
  void finish(CheckResult result) {
    if (!done_) return;
    DoneFn done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

 private:
  DoneFn done_;
};

using ProbeFactory = std::function<std::shared_ptr<Probe>()>;

// Factories validate the spec once; a spec they cannot run yields probes that report critical
// with the reason (Consul reports setup errors as check output too).
ProbeFactory makeHttpProbeFactory(boost::asio::io_context& io,
                                  std::shared_ptr<const CheckSpec> spec);
ProbeFactory makeTcpProbeFactory(boost::asio::io_context& io,
                                 std::shared_ptr<const CheckSpec> spec);
ProbeFactory makeScriptProbeFactory(boost::asio::io_context& io,
                                    std::shared_ptr<const CheckSpec> spec);

// A probe that immediately reports a fixed result (used for invalid specs).
std::shared_ptr<Probe> makeFixedProbe(boost::asio::io_context& io, CheckResult result);

}  // namespace trellis::agent::checks
