#pragma once
// Health-check runners with Consul's semantics (interval checks: http, tcp, script).
//
// Seam: the agent's local state owns one Runner per interval check and feeds each reported
// CheckResult into the check's status/output. Everything runs on the core loop (the io_context
// given to makeRunner): start(), stop() and the destructor must be called on that loop, and
// on_result is always invoked from a handler on it. No threads are created.
//
// Lifecycle: start() schedules the first run after a random stagger (at most
// min(interval, RunnerOptions::max_stagger)), then each run is followed `interval` after it
// completed (like Consul, runs never overlap). stop() cancels the timer and the run in flight
// (a script's process group is SIGKILLed and reaped in the background); after stop() returns
// on_result is never called again. Destroying a Runner stops it. on_result may call stop() or
// destroy the Runner. The io_context must outlive the Runner.
//
// Flap damping follows Consul's StatusHandler: the first result is always reported; afterwards a
// passing/warning result is reported once `success_before_passing` consecutive successes were
// seen, a critical one once `failures_before_critical` consecutive failures were seen (reported
// as warning once `failures_before_warning` is reached, which defaults to
// failures_before_critical when 0). Runs below a threshold report nothing.
//
// Not done here (the caller's job): Consul's 1s minimum interval, enable_script_checks policy.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trellis::agent::checks {

struct CheckResult {
  std::string status;  // "passing" | "warning" | "critical"
  std::string output;
};

using ResultFn = std::function<void(const CheckResult&)>;

struct CheckSpec {
  std::string check_id;
  std::string kind;  // "http", "tcp", "script" (later: "grpc", "udp", "h2ping")
  std::string http;
  std::string method = "GET";
  std::map<std::string, std::vector<std::string>> header;
  std::string body;
  bool tls_skip_verify = false;
  std::string tls_server_name;
  bool disable_redirects = false;
  std::string tcp;                // "host:port" ("[v6]:port")
  std::vector<std::string> args;  // script: argv, executed directly (PATH lookup); or
  std::string shell_command;      // script given as one string: run via /bin/sh -c
  std::chrono::nanoseconds interval{std::chrono::seconds(10)};
  std::chrono::nanoseconds timeout{std::chrono::seconds(10)};  // <= 0: 10s (script: 30s)
  size_t output_max_size = 4096;                               // 0: 4096
  int success_before_passing = 0, failures_before_warning = 0, failures_before_critical = 0;
};

struct RunnerOptions {
  std::chrono::nanoseconds max_stagger{std::chrono::seconds(1)};
  std::optional<uint64_t> seed;  // seeds the stagger; unset: std::random_device
};

class Runner {
 public:
  virtual ~Runner() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
};

// Returns nullptr for kinds this module does not run.
std::unique_ptr<Runner> makeRunner(boost::asio::io_context& io, CheckSpec spec, ResultFn on_result,
                                   RunnerOptions options = {});

inline constexpr const char* kPassing = "passing";
inline constexpr const char* kWarning = "warning";
inline constexpr const char* kCritical = "critical";

}  // namespace trellis::agent::checks
