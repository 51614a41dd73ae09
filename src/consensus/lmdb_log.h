#pragma once
// The single-server durable log (-data-dir): entries in LMDB, fsynced before they are applied and
// acknowledged, with group commit and periodic snapshots that bound the log.
//
// Threads (all started through src/event):
// - the apply executor (the caller's thread, reached through Poster) runs open(), append(),
//   close(), every StateMachine call and every AppendDone;
// - "lmdb-writer" takes everything append() queued, writes it in ONE transaction (one fsync),
//   then hands the batch to the apply executor. While it commits, new appends queue up for the
//   next batch. Before committing it may linger briefly (bounded by Options::max_linger and half
//   a commit) for the clients it just acknowledged, so that closed-loop clients share one fsync
//   instead of splitting into alternating cohorts (measured 1.7x with 32 appenders);
// - "lmdb-snapshot" writes snapshots (taken on the apply executor right after an entry was
//   applied, so the bytes match that index) to `<dir>/snapshot`, then deletes the log up to it.
//
// Order: one writer assigns indexes in append order and appends committed batches to a FIFO that
// the apply executor drains, so entries are applied in index order, exactly once, whatever order
// posted closures run in.
//
// Crash safety: an entry is acknowledged only after its commit returned; the snapshot file is
// replaced atomically and made durable before any entry it covers is deleted; open() replays
// whatever is in LMDB after the snapshot and ignores entries the snapshot already covers.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consensus/lmdb_store.h"
#include "consensus/log.h"

namespace trellis::consensus {

class LmdbLog final : public ReplicatedLog {
 public:
  struct Options {
    uint64_t snapshot_every = 16384;  // applied entries between snapshots
    // Upper bound on how long the writer waits for more appends before committing (also capped at
    // half the last commit's duration); 0 commits as soon as anything is queued.
    std::chrono::microseconds max_linger{1000};
    LmdbStore::Options store;
  };

  // Counters for tests and metrics; readable from any thread.
  struct Stats {
    uint64_t commits = 0;         // write transactions that carried appends
    uint64_t appended = 0;        // entries committed by this process
    uint64_t snapshots = 0;       // snapshots written and compacted
    uint64_t snapshot_index = 0;  // index of the newest snapshot written or restored
  };

  LmdbLog(std::string dir, Poster post, Options options);
  LmdbLog(std::string dir, Poster post) : LmdbLog(std::move(dir), std::move(post), Options{}) {}
  ~LmdbLog() override;

  Status open(StateMachine& fsm) override;
  void append(std::string command, AppendDone done) override;
  uint64_t lastApplied() const override { return last_applied_.load(std::memory_order_relaxed); }
  bool knownLeader() const override { return true; }
  // Entries already being committed are committed and applied; queued ones fail with kUnavailable.
  // Every AppendDone has run when close() returns.
  void close() override;

  Stats stats() const;
  // Entries currently stored in LMDB (tests: proves compaction happened).
  Result<uint64_t> storedEntries();

 private:
  struct Pending {
    std::string command;
    AppendDone done;
  };
  struct Batch {
    uint64_t first = 0;
    std::vector<Pending> entries;
    Status status;
  };
  // What posted closures touch; it outlives the log while closures are queued. Apply executor
  // only, except `committed` (guarded by mu).
  struct Shared {
    std::mutex mu;
    std::vector<Batch> committed;
    LmdbLog* owner = nullptr;
  };
  struct SnapshotJob {
    uint64_t index = 0;
    std::string data;
  };

  void writerLoop();
  void snapshotLoop();
  void publish(Batch batch, bool post);
  void drainCommitted();
  void maybeSnapshot();

  const std::string dir_;
  const Poster post_;
  const Options options_;
  std::unique_ptr<LmdbStore> store_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();

  // Apply executor only.
  StateMachine* fsm_ = nullptr;
  std::vector<Batch> draining_;  // swapped with shared_->committed so that capacity is reused
  bool open_ = false;
  bool closed_ = false;
  uint64_t since_snapshot_ = 0;
  std::atomic<uint64_t> last_applied_{0};

  // Append queue, guarded by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;
  size_t wake_at_ = 1;  // append() notifies the writer when the queue reaches this size
  bool stopping_ = false;

  // Writer thread only (set by open() before it starts).
  uint64_t next_index_ = 1;

  // Snapshot hand-off, guarded by snap_mu_; snapshot_busy_ is read on the apply executor.
  std::mutex snap_mu_;
  std::condition_variable snap_cv_;
  std::optional<SnapshotJob> snap_job_;
  bool snap_stopping_ = false;
  std::atomic<bool> snapshot_busy_{false};

  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> snapshots_{0};
  std::atomic<uint64_t> snapshot_index_{0};

  std::thread writer_;
  std::thread snapshotter_;
};

}  // namespace trellis::consensus
