#include "consensus/lmdb_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace trellis::consensus {
namespace {

constexpr std::string_view kCompactedKey = "compacted";

struct Key {
  char bytes[8];
  explicit Key(uint64_t v) {
    for (int i = 7; i >= 0; --i, v >>= 8) bytes[i] = static_cast<char>(v & 0xff);
  }
  MDB_val val() { return MDB_val{sizeof(bytes), bytes}; }
};

uint64_t decodeKey(const MDB_val& v) {
  uint64_t out = 0;
  const auto* p = static_cast<const unsigned char*>(v.mv_data);
  for (size_t i = 0; i < 8; ++i) out = (out << 8) | p[i];
  return out;
}

Status mdbError(std::string_view what, int rc) {
  return internalError("lmdb " + std::string(what) + ": " + mdb_strerror(rc));
}

}  // namespace

Result<std::unique_ptr<LmdbStore>> LmdbStore::open(const std::string& dir, Options options) {
  std::unique_ptr<LmdbStore> store(new LmdbStore(dir, options));
  Status st = store->openEnv();
  if (!st) return st;
  return store;
}

LmdbStore::~LmdbStore() {
  if (env_ != nullptr) mdb_env_close(env_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status LmdbStore::openEnv() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return internalError("cannot create data directory " + dir_ + ": " + ec.message());

  // LMDB's own lock file lets several processes share an environment; two agents appending to one
  // log would assign the same indexes, so the directory is exclusive.
  const std::string lock_path = dir_ + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return internalError("open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return internalError("data directory " + dir_ + " is in use by another process");
  }

  int rc = mdb_env_create(&env_);
  if (rc != 0) {
    env_ = nullptr;
    return mdbError("env_create", rc);
  }
  if ((rc = mdb_env_set_maxdbs(env_, 2)) != 0) return mdbError("set_maxdbs", rc);
  if ((rc = mdb_env_set_mapsize(env_, options_.initial_map_size)) != 0) {
    return mdbError("set_mapsize", rc);
  }
  if ((rc = mdb_env_open(env_, dir_.c_str(), 0, 0600)) != 0) {
    return mdbError("env_open " + dir_, rc);
  }
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_ = info.me_mapsize;

  return write("open databases", [&](MDB_txn* txn) {
    int rc = mdb_dbi_open(txn, "log", MDB_CREATE, &log_dbi_);
    if (rc == 0) rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta_dbi_);
    if (rc != 0) return rc;
    MDB_val k{kCompactedKey.size(), const_cast<char*>(kCompactedKey.data())};
    MDB_val v;
    rc = mdb_get(txn, meta_dbi_, &k, &v);
    if (rc == 0 && v.mv_size == 8) compacted_ = decodeKey(v);
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    MDB_cursor* cur = nullptr;
    if ((rc = mdb_cursor_open(txn, log_dbi_, &cur)) != 0) return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8) last_at_open_ = decodeKey(k);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
  });
}

Status LmdbStore::write(std::string_view what, const std::function<int(MDB_txn*)>& body) {
  std::lock_guard<std::mutex> lock(write_mu_);
  for (;;) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return mdbError(std::string(what) + ": txn_begin", rc);
    rc = body(txn);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);  // frees txn on success and on failure
    } else {
      mdb_txn_abort(txn);
    }
    if (rc == 0) return Status::ok();
    if (rc != MDB_MAP_FULL) return mdbError(what, rc);
    size_t grown = std::min(map_size_ * 2, options_.max_map_size);
    if (grown <= map_size_) {
      return internalError("lmdb " + std::string(what) + ": database is full (map size " +
                           std::to_string(map_size_) + " bytes is the configured maximum)");
    }
    // Safe: write_mu_ is held, so no write transaction is active, and read transactions exist
    // only during open-time replay (see header).
    if ((rc = mdb_env_set_mapsize(env_, grown)) != 0) return mdbError("set_mapsize", rc);
    map_size_ = grown;
  }
}

Status LmdbStore::replay(uint64_t after,
                         const std::function<void(uint64_t, std::string_view)>& fn) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return mdbError("replay: txn_begin", rc);
  MDB_cursor* cur = nullptr;
  if ((rc = mdb_cursor_open(txn, log_dbi_, &cur)) != 0) {
    mdb_txn_abort(txn);
    return mdbError("replay: cursor_open", rc);
  }
  Key start(after + 1);
  MDB_val k = start.val();
  MDB_val v;
  Status st;
  uint64_t expected = after + 1;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), ++expected) {
    uint64_t index = k.mv_size == 8 ? decodeKey(k) : 0;
    if (index != expected) {
      st = internalError("log in " + dir_ + " is damaged: expected index " +
                         std::to_string(expected) + ", found " + std::to_string(index));
      break;
    }
    fn(index, std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
  }
  if (st && rc != MDB_NOTFOUND) st = mdbError("replay", rc);
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return st;
}

Status LmdbStore::appendBatch(uint64_t first, size_t count,
                              const std::function<std::string_view(size_t)>& at) {
  return write("append", [&](MDB_txn* txn) {
    MDB_cursor* cur = nullptr;
    int rc = mdb_cursor_open(txn, log_dbi_, &cur);
    for (size_t i = 0; rc == 0 && i < count; ++i) {
      Key key(first + i);
      MDB_val k = key.val();
      std::string_view command = at(i);
      MDB_val v{command.size(), const_cast<char*>(command.data())};
      // MDB_APPEND skips the search and fails with MDB_KEYEXIST if indexes ever went backwards.
      rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
    }
    if (cur != nullptr) mdb_cursor_close(cur);
    return rc;
  });
}

Status LmdbStore::truncateThrough(uint64_t index) {
  Status st = write("truncate", [&](MDB_txn* txn) {
    MDB_cursor* cur = nullptr;
    int rc = mdb_cursor_open(txn, log_dbi_, &cur);
    MDB_val k;
    MDB_val v;
    while (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 && decodeKey(k) <= index) {
      rc = mdb_cursor_del(cur, 0);
    }
    if (cur != nullptr) mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    Key value(std::max(compacted_, index));
    MDB_val mk{kCompactedKey.size(), const_cast<char*>(kCompactedKey.data())};
    MDB_val mv = value.val();
    return mdb_put(txn, meta_dbi_, &mk, &mv, 0);
  });
  if (st) compacted_ = std::max(compacted_, index);
  return st;
}

Result<uint64_t> LmdbStore::entryCount() {
  std::lock_guard<std::mutex> lock(write_mu_);
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return mdbError("stat: txn_begin", rc);
  MDB_stat stat;
  rc = mdb_stat(txn, log_dbi_, &stat);
  mdb_txn_abort(txn);
  if (rc != 0) return mdbError("stat", rc);
  return static_cast<uint64_t>(stat.ms_entries);
}

}  // namespace trellis::consensus
