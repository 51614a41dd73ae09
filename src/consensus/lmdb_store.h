#pragma once
// Synchronous LMDB storage under LmdbLog: the `log` database (key: 8-byte big-endian index, value:
// command bytes) and `meta` (`compacted`: the highest index ever deleted by compaction).
//
// Threading: open() and replay() run before any writer thread exists (replay is the only read
// transaction this process ever takes). appendBatch() and truncateThrough() may then be called
// from different threads; they serialize on an internal mutex, which is also what makes growing
// the map safe (LMDB requires that no transaction is active while the map size changes).
// Every commit is synchronous (no MDB_NOSYNC / MDB_NOMETASYNC): when it returns OK the data is on
// disk.

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trellis::consensus {

class LmdbStore {
 public:
  struct Options {
    size_t initial_map_size = size_t{1} << 30;  // grows by doubling on MDB_MAP_FULL
    size_t max_map_size = size_t{1} << 40;      // beyond this, appends fail with kInternal
  };

  // Creates `dir` if needed and opens (or creates) the environment. Fails when another LmdbStore
  // (in any process) holds the directory.
  static Result<std::unique_ptr<LmdbStore>> open(const std::string& dir, Options options);
  ~LmdbStore();
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  // Highest index deleted by compaction (0 if none), and the last index stored (0 if empty), both
  // as found by open().
  uint64_t compactedThrough() const { return compacted_; }
  uint64_t lastIndexAtOpen() const { return last_at_open_; }

  // Calls `fn` for every entry with index > `after`, in order. Fails with kInternal if the
  // stored indexes have a gap (the entry after `after` must be `after + 1`).
  Status replay(uint64_t after, const std::function<void(uint64_t, std::string_view)>& fn);

  // Stores commands at indexes first, first+1, ... (count of them, `at(i)` gives the i-th) in one
  // durable transaction.
  Status appendBatch(uint64_t first, size_t count,
                     const std::function<std::string_view(size_t)>& at);

  // Deletes every entry <= index and records it as compacted, in one durable transaction.
  Status truncateThrough(uint64_t index);

  // Number of entries currently in `log` (tests).
  Result<uint64_t> entryCount();

  size_t mapSize() const { return map_size_; }

 private:
  LmdbStore(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}
  Status openEnv();
  // Runs `body` in a write transaction and commits; on MDB_MAP_FULL grows the map and retries.
  Status write(std::string_view what, const std::function<int(MDB_txn*)>& body);

  std::string dir_;
  Options options_;
  int lock_fd_ = -1;
  MDB_env* env_ = nullptr;
  MDB_dbi log_dbi_ = 0;
  MDB_dbi meta_dbi_ = 0;
  uint64_t compacted_ = 0;
  uint64_t last_at_open_ = 0;
  size_t map_size_ = 0;
  std::mutex write_mu_;
};

}  // namespace trellis::consensus
