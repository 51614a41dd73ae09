#pragma once
// Test and benchmark helpers for LmdbLog: a single-threaded task queue standing in for the apply
// executor, a state machine that records what it applied, and temporary directories.

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "consensus/log.h"

namespace trellis::consensus::testing {

// The apply executor: closures posted from any thread, run by whoever calls run*().
class TaskQueue {
 public:
  Poster poster() {
    return [this](std::function<void()> fn) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_.push_back(std::move(fn));
      }
      cv_.notify_one();
    };
  }

  // Runs tasks until `done()` holds or `timeout` passes; returns done(). Re-checks `done()` at
  // least every few milliseconds, so it may watch state that other threads change.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto until = std::min(deadline, std::chrono::steady_clock::now() + kPoll);
        if (!cv_.wait_until(lock, until, [this] { return !tasks_.empty(); })) {
          if (std::chrono::steady_clock::now() >= deadline) return done();
          continue;
        }
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
    return true;
  }

  // Runs what is queued now (and what those tasks queue), without waiting.
  void runReady() {
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

 private:
  static constexpr std::chrono::milliseconds kPoll{2};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

// Records (index, command) pairs; its snapshot is the serialized list, so a restore followed by
// replay must reproduce exactly the list of a process that never restarted.
class RecordingFsm : public StateMachine {
 public:
  std::vector<std::pair<uint64_t, std::string>> entries;
  uint64_t restored_index = 0;
  int restores = 0;

  std::any apply(uint64_t index, std::string_view command) override {
    entries.emplace_back(index, std::string(command));
    return std::string("applied ") + std::to_string(index);
  }

  std::string snapshot() const override {
    std::string out;
    for (const auto& [index, command] : entries) {
      out += std::to_string(index) + " " + std::to_string(command.size()) + "\n" + command;
    }
    return out;
  }

  Status restore(uint64_t index, std::string_view data) override {
    entries.clear();
    while (!data.empty()) {
      size_t nl = data.find('\n');
      size_t sp = data.find(' ');
      if (nl == std::string_view::npos || sp > nl) return invalidArgument("bad snapshot");
      uint64_t i = std::stoull(std::string(data.substr(0, sp)));
      size_t len = std::stoull(std::string(data.substr(sp + 1, nl - sp - 1)));
      if (data.size() - nl - 1 < len) return invalidArgument("short snapshot");
      entries.emplace_back(i, std::string(data.substr(nl + 1, len)));
      data.remove_prefix(nl + 1 + len);
    }
    restored_index = index;
    ++restores;
    return Status::ok();
  }
};

// A fresh directory under $TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/trellis-lmdb-XXXXXX";
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace trellis::consensus::testing
