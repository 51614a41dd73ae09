// Appends/s of LmdbLog with closed-loop appenders (each appends again when acknowledged), the
// shape of N concurrent HTTP clients doing KV PUTs. Usage: lmdb_log_bench [seconds] [dir-parent]
// (set TMPDIR to put the log on the disk you want to measure).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "consensus/lmdb_log.h"
#include "consensus/lmdb_log_testing.h"

namespace trellis::consensus {
namespace {

class CountingFsm : public StateMachine {
 public:
  std::any apply(uint64_t, std::string_view command) override {
    bytes_ += command.size();
    return {};
  }
  std::string snapshot() const override { return std::to_string(bytes_); }
  Status restore(uint64_t, std::string_view) override { return Status::ok(); }

 private:
  uint64_t bytes_ = 0;
};

double run(int clients, double seconds, std::chrono::microseconds linger) {
  testing::TempDir dir;
  testing::TaskQueue queue;
  CountingFsm fsm;
  LmdbLog::Options options;
  options.max_linger = linger;
  LmdbLog log(dir.path(), queue.poster(), options);
  if (Status st = log.open(fsm); !st) {
    std::fprintf(stderr, "open: %s\n", st.message().c_str());
    std::exit(1);
  }
  // About the size of an encoded KV PUT command with a short key and a 100-byte value.
  const std::string command(160, 'k');
  uint64_t done = 0;
  bool stop = false;
  std::function<void()> issue = [&] {
    log.append(command, [&](Result<Applied> r) {
      if (!r.isOk() && !stop) std::exit(2);
      ++done;
      if (!stop) issue();
    });
  };
  for (int c = 0; c < clients; ++c) issue();
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  queue.runUntil([&] { return std::chrono::steady_clock::now() >= end; },
                 std::chrono::milliseconds(static_cast<int>(seconds * 1000) + 1000));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  uint64_t counted = done;
  LmdbLog::Stats stats = log.stats();
  log.close();
  double rate = static_cast<double>(counted) / elapsed;
  std::printf(
      "linger<=%4lldus clients=%2d  appends/s=%9.0f  commits/s=%7.0f  entries/commit=%6.1f\n",
      static_cast<long long>(linger.count()), clients, rate,
      static_cast<double>(stats.commits) / elapsed,
      stats.commits ? static_cast<double>(stats.appended) / stats.commits : 0.0);
  return rate;
}

}  // namespace
}  // namespace trellis::consensus

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  using std::chrono::microseconds;
  double plain = trellis::consensus::run(32, seconds, microseconds(0));
  double one = trellis::consensus::run(1, seconds, microseconds(1000));
  double many = trellis::consensus::run(32, seconds, microseconds(1000));
  std::printf("32 clients / 1 client = %.1fx; linger / no linger (32 clients) = %.2fx\n",
              one > 0 ? many / one : 0.0, plain > 0 ? many / plain : 0.0);
  return 0;
}
