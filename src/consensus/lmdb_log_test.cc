#include "consensus/lmdb_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "consensus/lmdb_log_testing.h"
#include "consensus/snapshot_file.h"

namespace trellis::consensus {
namespace {

using std::chrono_literals::operator""ms;
using testing::RecordingFsm;
using testing::TaskQueue;
using testing::TempDir;

constexpr auto kWait = std::chrono::milliseconds(10000);

std::string command(uint64_t i) { return "cmd-" + std::to_string(i) + std::string(i % 37, 'x'); }

class LmdbLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<LmdbLog> makeLog(LmdbLog::Options options = {}) {
    return std::make_unique<LmdbLog>(dir_.path(), queue_.poster(), options);
  }

  // Appends `n` commands (command(first)..) in one executor turn; waits for all completions.
  std::vector<Result<Applied>> appendAll(LmdbLog& log, uint64_t first, size_t n) {
    auto results = std::make_shared<std::vector<Result<Applied>>>();
    for (size_t i = 0; i < n; ++i) {
      log.append(command(first + i), [results](Result<Applied> r) { results->push_back(r); });
    }
    EXPECT_TRUE(queue_.runUntil([&] { return results->size() == n; }, kWait));
    return *results;
  }

  TempDir dir_;
  TaskQueue queue_;
};

void expectEntries(const RecordingFsm& fsm, uint64_t count) {
  ASSERT_EQ(fsm.entries.size(), count);
  for (uint64_t i = 0; i < count; ++i) {
    ASSERT_EQ(fsm.entries[i].first, i + 1);
    ASSERT_EQ(fsm.entries[i].second, command(i + 1)) << "at index " << i + 1;
  }
}

TEST_F(LmdbLogTest, EmptyDirectoryStartsAtZeroAndAppliesInOrder) {
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  EXPECT_EQ(log->lastApplied(), 0u);
  EXPECT_TRUE(log->knownLeader());
  auto results = appendAll(*log, 1, 10);
  ASSERT_EQ(results.size(), 10u);
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(results[i].isOk()) << results[i].status().message();
    EXPECT_EQ(results[i]->index, i + 1);
    EXPECT_EQ(std::any_cast<std::string>(results[i]->result), "applied " + std::to_string(i + 1));
  }
  expectEntries(fsm, 10);
  EXPECT_EQ(log->lastApplied(), 10u);
  EXPECT_EQ(fsm.restores, 0);
}

TEST_F(LmdbLogTest, BurstOfAppendsIsGroupCommitted) {
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  appendAll(*log, 1, 2000);
  expectEntries(fsm, 2000);
  LmdbLog::Stats stats = log->stats();
  EXPECT_EQ(stats.appended, 2000u);
  EXPECT_GE(stats.commits, 1u);
  EXPECT_LT(stats.commits, 100u) << "a burst queued in one turn must share transactions";
}

TEST_F(LmdbLogTest, ConcurrentClosedLoopClientsShareCommits) {
  // 32 clients, each appending its next command when the previous one is acknowledged: the load
  // shape of the HTTP benchmark.
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  constexpr int kClients = 32;
  constexpr int kPerClient = 40;
  std::vector<std::vector<uint64_t>> seen(kClients);
  int completed = 0;
  std::function<void(int)> issue = [&](int client) {
    log->append("client-" + std::to_string(client), [&, client](Result<Applied> r) {
      ASSERT_TRUE(r.isOk()) << r.status().message();
      seen[client].push_back(r->index);
      ++completed;
      if (seen[client].size() < kPerClient) issue(client);
    });
  };
  for (int c = 0; c < kClients; ++c) issue(c);
  ASSERT_TRUE(queue_.runUntil([&] { return completed == kClients * kPerClient; }, kWait));
  ASSERT_EQ(fsm.entries.size(), size_t{kClients * kPerClient});
  for (size_t i = 0; i < fsm.entries.size(); ++i) ASSERT_EQ(fsm.entries[i].first, i + 1);
  for (int c = 0; c < kClients; ++c) {
    for (size_t k = 1; k < seen[c].size(); ++k) EXPECT_LT(seen[c][k - 1], seen[c][k]);
    for (uint64_t index : seen[c]) {
      EXPECT_EQ(fsm.entries[index - 1].second, "client-" + std::to_string(c));
    }
  }
  EXPECT_LT(log->stats().commits, uint64_t{kClients * kPerClient} / 4);
}

TEST_F(LmdbLogTest, ReopenReplaysEverythingAndContinuesNumbering) {
  {
    RecordingFsm fsm;
    auto log = makeLog();
    ASSERT_TRUE(log->open(fsm));
    appendAll(*log, 1, 100);
    log->close();
  }
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  EXPECT_EQ(log->lastApplied(), 100u);
  expectEntries(fsm, 100);
  auto results = appendAll(*log, 101, 1);
  ASSERT_TRUE(results[0].isOk());
  EXPECT_EQ(results[0]->index, 101u);
  expectEntries(fsm, 101);
}

TEST_F(LmdbLogTest, SnapshotCompactsTheLogAndReopenRestoresSnapshotPlusTail) {
  LmdbLog::Options options;
  options.snapshot_every = 10;
  {
    RecordingFsm fsm;
    auto log = makeLog(options);
    ASSERT_TRUE(log->open(fsm));
    // One at a time, so that no snapshot is skipped for being busy: snapshots at 10, 20, 30.
    for (uint64_t i = 1; i <= 35; ++i) {
      appendAll(*log, i, 1);
      if (i % 10 == 0) {
        ASSERT_TRUE(queue_.runUntil([&] { return log->stats().snapshot_index == i; }, kWait));
      }
    }
    EXPECT_EQ(log->stats().snapshots, 3u);
    auto stored = log->storedEntries();
    ASSERT_TRUE(stored.isOk());
    EXPECT_EQ(*stored, 5u) << "entries 1..30 must have been deleted";
    log->close();
  }
  RecordingFsm fsm;
  auto log = makeLog(options);
  ASSERT_TRUE(log->open(fsm));
  EXPECT_EQ(fsm.restores, 1);
  EXPECT_EQ(fsm.restored_index, 30u);
  EXPECT_EQ(log->lastApplied(), 35u);
  EXPECT_EQ(log->stats().snapshot_index, 30u);
  expectEntries(fsm, 35);
  auto results = appendAll(*log, 36, 1);
  ASSERT_TRUE(results[0].isOk());
  EXPECT_EQ(results[0]->index, 36u);
}

TEST_F(LmdbLogTest, CrashBetweenSnapshotAndTruncationSkipsCoveredEntries) {
  RecordingFsm writer_fsm;
  {
    auto log = makeLog();
    ASSERT_TRUE(log->open(writer_fsm));
    appendAll(*log, 1, 10);
    log->close();
  }
  // As if the process died right after the snapshot file was renamed into place.
  RecordingFsm at6;
  at6.entries.assign(writer_fsm.entries.begin(), writer_fsm.entries.begin() + 6);
  ASSERT_TRUE(writeSnapshotFile(dir_.path(), 6, at6.snapshot()));
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  EXPECT_EQ(fsm.restored_index, 6u);
  EXPECT_EQ(log->lastApplied(), 10u);
  expectEntries(fsm, 10);
}

TEST_F(LmdbLogTest, LostSnapshotAfterCompactionRefusesToOpen) {
  LmdbLog::Options options;
  options.snapshot_every = 5;
  {
    RecordingFsm fsm;
    auto log = makeLog(options);
    ASSERT_TRUE(log->open(fsm));
    appendAll(*log, 1, 5);
    ASSERT_TRUE(queue_.runUntil([&] { return log->stats().snapshots == 1; }, kWait));
    log->close();
  }
  std::filesystem::remove(dir_.path() + "/snapshot");
  RecordingFsm fsm;
  auto log = makeLog(options);
  Status st = log->open(fsm);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("compacted through index 5"), std::string::npos) << st.message();
}

TEST_F(LmdbLogTest, CloseCompletesEveryPendingAppendExactlyOnce) {
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  constexpr size_t kCount = 3000;
  std::vector<int> calls(kCount, 0);
  std::vector<std::optional<Result<Applied>>> results(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    log->append(command(i + 1), [&, i](Result<Applied> r) {
      ++calls[i];
      results[i] = r;
    });
  }
  log->close();  // without ever running the executor
  queue_.runReady();
  size_t applied = 0;
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(calls[i], 1) << "append " << i;
    const Result<Applied>& r = *results[i];
    if (r.isOk()) {
      ASSERT_EQ(applied, i) << "applied appends must be a prefix";
      EXPECT_EQ(r->index, i + 1);
      ++applied;
    } else {
      EXPECT_EQ(r.status().code(), Code::kUnavailable);
      EXPECT_EQ(r.status().message(), "log is closed");
    }
  }
  EXPECT_EQ(log->lastApplied(), applied);
  expectEntries(fsm, applied);

  std::optional<Result<Applied>> late;
  log->append("late", [&](Result<Applied> r) { late = r; });
  queue_.runReady();
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status().code(), Code::kUnavailable);

  RecordingFsm reopened;
  auto again = makeLog();
  ASSERT_TRUE(again->open(reopened));
  EXPECT_EQ(again->lastApplied(), applied);
}

TEST_F(LmdbLogTest, CloseFromInsideACompletionIsSafe) {
  RecordingFsm fsm;
  auto log = makeLog();
  ASSERT_TRUE(log->open(fsm));
  int calls = 0;
  for (int i = 0; i < 50; ++i) {
    log->append(command(i + 1), [&](Result<Applied> r) {
      ++calls;
      log->close();
    });
  }
  ASSERT_TRUE(queue_.runUntil([&] { return calls == 50; }, kWait));
  queue_.runReady();
  EXPECT_EQ(calls, 50);
  expectEntries(fsm, log->lastApplied());
}

TEST_F(LmdbLogTest, AppendBeforeOpenFailsAsUnavailable) {
  auto log = makeLog();
  std::optional<Result<Applied>> got;
  log->append("x", [&](Result<Applied> r) { got = r; });
  queue_.runReady();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), Code::kUnavailable);
}

TEST_F(LmdbLogTest, SecondOpenOfTheSameDirectoryFails) {
  RecordingFsm a;
  RecordingFsm b;
  auto first = makeLog();
  ASSERT_TRUE(first->open(a));
  auto second = makeLog();
  Status st = second->open(b);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("in use"), std::string::npos) << st.message();
}

TEST_F(LmdbLogTest, MapGrowsWhenFull) {
  LmdbLog::Options options;
  options.store.initial_map_size = 256 * 1024;
  RecordingFsm fsm;
  auto log = makeLog(options);
  ASSERT_TRUE(log->open(fsm));
  std::string big(4000, 'b');
  auto results = std::make_shared<int>(0);
  for (int i = 0; i < 500; ++i) {  // ~2 MB, in several batches
    log->append(big, [results](Result<Applied> r) {
      EXPECT_TRUE(r.isOk()) << r.status().message();
      ++*results;
    });
    if (i % 50 == 49) queue_.runUntil([&] { return *results == i + 1; }, kWait);
  }
  ASSERT_EQ(*results, 500);
  EXPECT_EQ(log->lastApplied(), 500u);
}

TEST_F(LmdbLogTest, FullDiskFailsAppendsWithInternalAndKeepsRunning) {
  LmdbLog::Options options;
  options.store.initial_map_size = 256 * 1024;
  options.store.max_map_size = 256 * 1024;
  RecordingFsm fsm;
  auto log = makeLog(options);
  ASSERT_TRUE(log->open(fsm));
  std::string big(4000, 'b');
  std::optional<Status> failure;
  uint64_t ok = 0;
  for (int i = 0; i < 200 && !failure; ++i) {
    std::optional<Result<Applied>> r;
    log->append(big, [&](Result<Applied> got) { r = got; });
    ASSERT_TRUE(queue_.runUntil([&] { return r.has_value(); }, kWait));
    if (r->isOk()) {
      ASSERT_EQ((*r)->index, ++ok);
    } else {
      failure = r->status();
    }
  }
  ASSERT_TRUE(failure.has_value()) << "a 256 KiB map cannot hold 800 KB";
  EXPECT_EQ(failure->code(), Code::kInternal);
  EXPECT_NE(failure->message().find("full"), std::string::npos) << failure->message();
  // The log keeps answering; whatever it acknowledged is exactly what a reopen finds.
  std::optional<Result<Applied>> small;
  log->append("s", [&](Result<Applied> got) { small = got; });
  ASSERT_TRUE(queue_.runUntil([&] { return small.has_value(); }, kWait));
  if (small->isOk()) {
    EXPECT_EQ((*small)->index, ok + 1);
    ++ok;
  }
  log->close();
  RecordingFsm reopened;
  auto again = makeLog();
  ASSERT_TRUE(again->open(reopened));
  EXPECT_EQ(again->lastApplied(), ok);
}

}  // namespace
}  // namespace trellis::consensus
