#pragma once
// Helpers for the checks tests: drive the loop until a condition holds, collect results.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "agent/checks/runner.h"

namespace trellis::agent::checks::testing {

// Runs `io` in small slices until `done()` or `limit` passes; returns done().
inline bool runUntil(boost::asio::io_context& io, const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(2));
  }
  return done();
}

inline void runFor(boost::asio::io_context& io, std::chrono::milliseconds d) {
  runUntil(
      io, [] { return false; }, d);
}

struct Collector {
  std::vector<CheckResult> results;
  ResultFn fn() {
    return [this](const CheckResult& r) { results.push_back(r); };
  }
};

// Runs one check until its first reported result (no stagger, long interval).
inline CheckResult runOnce(boost::asio::io_context& io, CheckSpec spec,
                           std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  spec.interval = std::chrono::seconds(60);
  Collector c;
  RunnerOptions options;
  options.max_stagger = std::chrono::nanoseconds(0);
  auto runner = makeRunner(io, std::move(spec), c.fn(), options);
  if (!runner) return {"", "no runner"};
  runner->start();
  if (!runUntil(
          io, [&] { return !c.results.empty(); }, limit))
    return {"", "no result"};
  return c.results.front();
}

}  // namespace trellis::agent::checks::testing
