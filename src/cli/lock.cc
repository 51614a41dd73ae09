// `lock`: run a child while holding a KV lock; kill it if the lock is lost.
#include <thread>

#include "cli/command.h"
#include "cli/kv_lock.h"
#include "cli/process.h"
#include "cli/signals.h"

namespace trellis::cli {
namespace {

constexpr std::string_view kHelp = R"(Usage: trellis lock [options] prefix child...

  Acquires a lock at the given prefix and runs the child process while holding
  it. If the lock is lost or communication is disrupted, the child is sent
  SIGTERM and, after a grace period, SIGKILL. The exit code is the child's.
)";

constexpr auto kKillGrace = std::chrono::seconds(5);
constexpr auto kPollInterval = std::chrono::milliseconds(50);

std::string joinLockKey(std::string prefix) {
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix.empty() ? ".lock" : prefix + "/.lock";
}

}  // namespace

int runLock(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  int64_t limit = 1, monitorRetry = 3;
  std::string name;
  bool passStdin = false, shell = true, verbose = false, childExitCode = false;
  Nanos timeout{0};
  flags.addInt("n", &limit, "Limit on the number of concurrent lock holders (only 1 for now).");
  flags.addInt("monitor-retry", &monitorRetry,
               "Number of 500 errors tolerated while monitoring the lock (1s apart).");
  flags.addString("name", &name, "Name of the lock session. Derived from the child by default.");
  flags.addBool("pass-stdin", &passStdin, "Pass stdin to the child process.");
  flags.addBool("shell", &shell, "Use /bin/sh -c to run the command.");
  flags.addDuration("timeout", &timeout, "Maximum time to wait to acquire the lock, e.g. \"10s\".");
  flags.addDuration("try", &timeout, "DEPRECATED. Use -timeout instead.");
  flags.addBool("verbose", &verbose, "Enable verbose output.");
  flags.addBool("child-exit-code", &childExitCode,
                "Accepted for Consul compatibility; the child's exit code is always propagated.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kHelp, &code)) return code;
  if (limit <= 0) {
    ctx.err << "Lock holder limit must be positive\n";
    return 1;
  }
  if (limit > 1) {
    ctx.err << "Semaphores (-n greater than 1) are not supported by trellis yet\n";
    return 1;
  }
  const auto& extra = flags.args();
  if (extra.size() < 2) {
    ctx.err << "Key prefix and child command must be specified\n";
    return 1;
  }
  if (timeout.count() < 0) {
    ctx.err << "Timeout must be positive\n";
    return 1;
  }
  if (monitorRetry < 0) {
    ctx.err << "Number for 'monitor-retry' must be >= 0\n";
    return 1;
  }
  std::string prefix = extra[0];
  if (!prefix.empty() && prefix[0] == '/') prefix.erase(0, 1);
  std::vector<std::string> child(extra.begin() + 1, extra.end());
  if (name.empty()) {
    std::string joined;
    for (const auto& a : child) joined += (joined.empty() ? "" : " ") + a;
    name = "Consul lock for '" + joined + "' at '" + prefix + "'";
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;

  auto info = [&](std::string_view msg) {
    if (verbose) ctx.out << msg << std::endl;
  };
  ShutdownSignals signals;
  auto shuttingDown = [&signals] { return signals.triggered(); };
  KvLock::Options opts;
  opts.key = joinLockKey(prefix);
  opts.sessionName = name;
  opts.monitorRetries = static_cast<int>(monitorRetry);
  KvLock lock(*client, opts);
  info("Setting up lock at path: " + opts.key);
  if (Status st = lock.createSession(); !st) {
    if (st.code() == Code::kUnavailable) {
      ctx.err << "Error connecting to Trellis agent: " << st.message() << "\n";
    } else {
      ctx.err << "Lock setup failed: failed to create session: " << st.message() << "\n";
    }
    return 1;
  }
  lock.startRenewal();

  info("Attempting lock acquisition");
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout.count() > 0) deadline = std::chrono::steady_clock::now() + timeout;
  auto outcome = lock.acquire(deadline, shuttingDown);
  if (!outcome || *outcome != KvLock::Outcome::kAcquired) {
    if (!outcome) {
      ctx.err << "Lock acquisition failed: " << outcome.status().message() << "\n";
    } else {
      ctx.err << "Shutdown triggered or timeout during lock acquisition\n";
    }
    lock.stopThreads();
    (void)lock.destroySession();
    return 1;
  }
  lock.startMonitor();

  info("Starting handler");
  ctx.out.flush();
  ctx.err.flush();
  ChildSpec spec;
  spec.argv = childCommand(child, shell);
  spec.extraEnv = {"CONSUL_LOCK_HELD=true"};
  spec.inheritStdin = passStdin;
  auto pid = spawnChild(spec);
  int exitCode = 1;
  bool lost = false;
  if (!pid) {
    ctx.err << "Error executing handler: " << pid.status().message() << "\n";
  } else {
    while (true) {
      if (auto done = pollChild(*pid)) {
        exitCode = *done;
        info("Child terminated, releasing lock");
        break;
      }
      if (lock.lost() || signals.triggered()) {
        lost = lock.lost();
        info(lost ? "Lock lost, killing child" : "Shutdown triggered, killing child");
        exitCode = terminateChild(*pid, kKillGrace);
        break;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  lock.stopThreads();
  if (lost) {
    ctx.err << "Lock lost: child terminated\n";
    (void)lock.destroySession();
    return 1;
  }
  if (Status st = lock.release(); !st) {
    ctx.err << "Lock release failed: " << st.message() << "\n";
    (void)lock.destroySession();
    return 1;
  }
  if (Status st = lock.cleanup(); !st) {
    ctx.err << "Lock cleanup failed: " << st.message() << "\n";
    (void)lock.destroySession();
    return 1;
  }
  if (Status st = lock.destroySession(); !st) {
    ctx.err << "Warning, could not destroy the lock session: " << st.message() << "\n";
  }
  return exitCode;
}

}  // namespace trellis::cli
