#include "consensus/lmdb_log.h"

#include <algorithm>
#include <cassert>
#include <chrono>

#include "common/log.h"
#include "consensus/snapshot_file.h"
#include "event/thread.h"

namespace trellis::consensus {

LmdbLog::LmdbLog(std::string dir, Poster post, Options options)
    : dir_(std::move(dir)), post_(std::move(post)), options_(options) {}

LmdbLog::~LmdbLog() { close(); }

Status LmdbLog::open(StateMachine& fsm) {
  if (open_ || closed_) return Status(Code::kUnavailable, "log is already open or closed");
  auto store = LmdbStore::open(dir_, options_.store);
  if (!store) return store.status();
  auto snapshot = readSnapshotFile(dir_);
  if (!snapshot) return snapshot.status();

  uint64_t base = 0;
  if (snapshot->has_value()) {
    base = (*snapshot)->index;
    Status st = fsm.restore(base, (*snapshot)->data);
    if (!st) {
      return internalError("restoring snapshot at index " + std::to_string(base) + " from " + dir_ +
                           ": " + st.message());
    }
  }
  if ((*store)->compactedThrough() > base) {
    return internalError("log in " + dir_ + " was compacted through index " +
                         std::to_string((*store)->compactedThrough()) +
                         " but the newest snapshot is at " + std::to_string(base) +
                         " (snapshot file lost?)");
  }
  uint64_t last = base;
  uint64_t replayed = 0;
  Status st = (*store)->replay(base, [&](uint64_t index, std::string_view command) {
    fsm.apply(index, command);
    last = index;
    ++replayed;
  });
  if (!st) return st;

  store_ = std::move(*store);
  fsm_ = &fsm;
  last_applied_.store(last);
  next_index_ = last + 1;
  since_snapshot_ = replayed;
  snapshot_index_.store(base);
  open_ = true;
  shared_->owner = this;
  writer_ = event::startThread("lmdb-writer", [this] { writerLoop(); });
  snapshotter_ = event::startThread("lmdb-snapshot", [this] { snapshotLoop(); });
  TLOG_INFO("lmdb log {}: snapshot at {}, replayed {} entries, last index {}", dir_, base, replayed,
            last);
  return Status::ok();
}

void LmdbLog::append(std::string command, AppendDone done) {
  if (!open_ || closed_) {
    const char* why = closed_ ? "log is closed" : "log is not open";
    post_([done = std::move(done), why] { done(Status(Code::kUnavailable, why)); });
    return;
  }
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Pending{std::move(command), std::move(done)});
    wake = queue_.size() == wake_at_;
  }
  if (wake) cv_.notify_one();
}

void LmdbLog::writerLoop() {
  std::vector<Pending> batch;
  size_t target = 1;
  std::chrono::microseconds linger{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_at_ = 1;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Closed-loop clients acknowledged by the last batch come back within a moment; waiting
      // briefly for them puts everyone into one transaction instead of splitting the clients
      // into cohorts that alternate, each paying a full fsync.
      if (!stopping_ && queue_.size() < target && linger.count() > 0) {
        wake_at_ = target;
        cv_.wait_for(lock, linger, [&] { return stopping_ || queue_.size() >= target; });
      }
      wake_at_ = 0;  // busy: appends need not wake the writer
      if (stopping_) {
        if (!queue_.empty()) {
          publish(Batch{0, std::move(queue_), Status(Code::kUnavailable, "log is closed")}, false);
        }
        return;
      }
      batch.swap(queue_);
      queue_.reserve(batch.size());
    }
    const uint64_t first = next_index_;
    const size_t count = batch.size();
    auto started = std::chrono::steady_clock::now();
    Status st = store_->appendBatch(
        first, count, [&batch](size_t i) -> std::string_view { return batch[i].command; });
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    if (st) {
      next_index_ += count;
      commits_.fetch_add(1, std::memory_order_relaxed);
      appended_.fetch_add(count, std::memory_order_relaxed);
    } else {
      TLOG_ERROR("lmdb log {}: {} appends at index {} failed: {}", dir_, count, first,
                 st.message());
    }
    publish(Batch{first, std::move(batch), std::move(st)}, true);
    batch = {};
    // Expect the clients just acknowledged plus those already waiting, but never wait longer than
    // a fraction of a commit: on a fast disk lingering would cost more than it saves.
    linger = std::min(options_.max_linger, took / 2);
    std::lock_guard<std::mutex> lock(mu_);
    target = count + queue_.size();
  }
}

void LmdbLog::publish(Batch batch, bool post) {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->committed.push_back(std::move(batch));
  }
  if (!post) return;
  // Each closure drains whatever is queued, in FIFO order: order never depends on which closure
  // runs first, and closures that find the queue empty (or the log gone) do nothing.
  post_([shared = shared_] {
    if (shared->owner != nullptr) shared->owner->drainCommitted();
  });
}

void LmdbLog::drainCommitted() {
  // A local vector, so that a completion calling close() (which drains again) stays safe.
  std::vector<Batch> ready;
  ready.swap(draining_);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    ready.swap(shared_->committed);
  }
  for (Batch& batch : ready) {
    if (!batch.status) {
      for (Pending& p : batch.entries) p.done(batch.status);
      continue;
    }
    assert(batch.first == last_applied_.load() + 1);
    uint64_t index = batch.first;
    for (Pending& p : batch.entries) {
      std::any result = fsm_->apply(index, p.command);
      last_applied_.store(index, std::memory_order_relaxed);
      p.done(Applied{index, std::move(result)});
      ++index;
      maybeSnapshot();
    }
  }
  ready.clear();
  if (draining_.capacity() == 0) draining_.swap(ready);
}

void LmdbLog::maybeSnapshot() {
  if (++since_snapshot_ < options_.snapshot_every || closed_ ||
      snapshot_busy_.load(std::memory_order_acquire)) {
    return;
  }
  // Taken right after an apply, so the bytes are exactly the state at lastApplied().
  SnapshotJob job{last_applied_.load(), fsm_->snapshot()};
  since_snapshot_ = 0;
  snapshot_busy_.store(true, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(snap_mu_);
    snap_job_ = std::move(job);
  }
  snap_cv_.notify_one();
}

void LmdbLog::snapshotLoop() {
  for (;;) {
    SnapshotJob job;
    {
      std::unique_lock<std::mutex> lock(snap_mu_);
      snap_cv_.wait(lock, [this] { return snap_stopping_ || snap_job_.has_value(); });
      if (snap_stopping_) return;  // an unwritten snapshot is only a missed optimisation
      job = std::move(*snap_job_);
      snap_job_.reset();
    }
    // The file must be durable before the entries it covers go away.
    Status st = writeSnapshotFile(dir_, job.index, job.data);
    if (st) st = store_->truncateThrough(job.index);
    if (st) {
      snapshots_.fetch_add(1, std::memory_order_relaxed);
      snapshot_index_.store(job.index, std::memory_order_relaxed);
    } else {
      TLOG_ERROR("lmdb log {}: snapshot at index {} failed: {}", dir_, job.index, st.message());
    }
    snapshot_busy_.store(false, std::memory_order_release);
  }
}

void LmdbLog::close() {
  if (closed_) return;
  closed_ = true;
  if (!open_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  writer_.join();
  {
    std::lock_guard<std::mutex> lock(snap_mu_);
    snap_stopping_ = true;
  }
  snap_cv_.notify_one();
  snapshotter_.join();
  // Committed entries are durable and will be replayed anyway: apply them now so that the state
  // and every acknowledgement agree with the disk; the rest fail with kUnavailable.
  drainCommitted();
  shared_->owner = nullptr;
  store_.reset();
}

LmdbLog::Stats LmdbLog::stats() const {
  return Stats{commits_.load(), appended_.load(), snapshots_.load(), snapshot_index_.load()};
}

Result<uint64_t> LmdbLog::storedEntries() {
  if (store_ == nullptr) return Status(Code::kUnavailable, "log is not open");
  return store_->entryCount();
}

}  // namespace trellis::consensus
