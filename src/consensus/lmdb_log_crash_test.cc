// Kills a process that is appending to an LmdbLog (SIGKILL, mid-burst, with frequent snapshots)
// and checks that a reopen finds every entry it had acknowledged, with the right bytes, and a
// gap-free log. Each round reuses the directory the previous crash left behind.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <set>

#include "consensus/lmdb_log.h"
#include "consensus/lmdb_log_testing.h"

namespace trellis::consensus {
namespace {

using testing::RecordingFsm;
using testing::TaskQueue;
using testing::TempDir;

constexpr int kRounds = 5;
constexpr int kClients = 16;
constexpr size_t kMaxAcks = 2000;
constexpr auto kBurst = std::chrono::milliseconds(300);

// Deterministic content per index, of varying length, so misplaced or torn values show.
std::string payload(uint64_t index) {
  return "entry-" + std::to_string(index) + "-" +
         std::string(index % 200, static_cast<char>('a' + index % 26));
}

LmdbLog::Options crashOptions() {
  LmdbLog::Options options;
  options.snapshot_every = 97;  // snapshots and truncations happen during the burst too
  return options;
}

[[noreturn]] void childMain(const std::string& dir, int ack_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(30);  // never outlive a stuck parent
  TaskQueue queue;
  RecordingFsm fsm;
  LmdbLog log(dir, queue.poster(), crashOptions());
  if (!log.open(fsm)) _exit(2);
  // Indexes are assigned in append order, so the n-th append from now gets lastApplied() + n.
  uint64_t next = log.lastApplied() + 1;
  std::function<void()> issue = [&] {
    log.append(payload(next++), [&](Result<Applied> r) {
      if (!r.isOk()) _exit(3);
      uint64_t index = r->index;
      if (::write(ack_fd, &index, sizeof(index)) != sizeof(index)) _exit(4);
      issue();
    });
  };
  for (int c = 0; c < kClients; ++c) issue();
  queue.runUntil([] { return false; }, std::chrono::hours(1));
  _exit(5);
}

// Reads 8-byte acknowledgements until `deadline` (or EOF, or `limit` of them).
void readAcks(int fd, std::vector<uint64_t>& acks, std::chrono::steady_clock::time_point deadline,
              size_t limit) {
  char buf[8 * 512];
  size_t have = 0;
  while (acks.size() < limit) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::read(fd, buf + have, sizeof(buf) - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    size_t whole = have / 8 * 8;
    for (size_t off = 0; off < whole; off += 8) {
      uint64_t v;
      std::memcpy(&v, buf + off, 8);
      acks.push_back(v);
    }
    std::memmove(buf, buf + whole, have - whole);
    have -= whole;
  }
}

TEST(LmdbLogCrashTest, EveryAcknowledgedAppendSurvivesSigkill) {
  TempDir dir;
  uint64_t total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      childMain(dir.path(), fds[1]);
    }
    ::close(fds[1]);

    std::vector<uint64_t> acks;
    auto now = std::chrono::steady_clock::now();
    readAcks(fds[0], acks, now + std::chrono::seconds(10), 1);  // startup and replay
    ASSERT_FALSE(acks.empty()) << "child produced no acknowledgement in round " << round;
    readAcks(fds[0], acks, std::chrono::steady_clock::now() + kBurst, kMaxAcks);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    // Whatever reached the pipe before the kill was acknowledged too.
    readAcks(fds[0], acks, std::chrono::steady_clock::now() + std::chrono::seconds(5), SIZE_MAX);
    ::close(fds[0]);

    std::set<uint64_t> unique(acks.begin(), acks.end());
    ASSERT_EQ(unique.size(), acks.size()) << "an index was acknowledged twice";
    total_acks += acks.size();

    TaskQueue queue;
    RecordingFsm fsm;
    LmdbLog log(dir.path(), queue.poster(), crashOptions());
    Status st = log.open(fsm);
    ASSERT_TRUE(st) << st.message();
    ASSERT_GE(log.lastApplied(), *unique.rbegin())
        << "acknowledged entries lost in round " << round;
    ASSERT_EQ(fsm.entries.size(), log.lastApplied());
    EXPECT_GT(fsm.restored_index, 0u) << "recovery should have gone through a snapshot";
    for (size_t i = 0; i < fsm.entries.size(); ++i) {
      ASSERT_EQ(fsm.entries[i].first, i + 1) << "gap in round " << round;
      ASSERT_EQ(fsm.entries[i].second, payload(i + 1)) << "wrong bytes at " << i + 1;
    }
    log.close();
  }
  RecordProperty("acknowledged", static_cast<int>(total_acks));
  std::printf("acknowledged %llu appends over %d crashes\n",
              static_cast<unsigned long long>(total_acks), kRounds);
}

}  // namespace
}  // namespace trellis::consensus
