#pragma once
// A Consul-compatible KV lock, as `consul lock` (Go api.Lock) takes it: a session with a TTL that
// a background thread renews every TTL/2, a key `<prefix>/.lock` acquired with the lock flag
// value, and a monitor thread whose blocking reads notice when the key stops being ours.
//
// Threading: the owner calls the public methods from one thread. startRenewal() and
// startMonitor() each start one thread; they only touch the client (thread-safe) and atomics,
// and are joined by stopThreads() (called by the destructor too).

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "cli/api_client.h"

namespace trellis::cli {

// Consul's api.LockFlagValue: marks a key as a lock so that a semaphore cannot mistake it.
inline constexpr uint64_t kLockFlagValue = 0x2ddccbc058a50c18ULL;

class KvLock {
 public:
  struct Options {
    std::string key;  // "<prefix>/.lock"
    std::string sessionName;
    std::chrono::seconds ttl{15};
    std::chrono::milliseconds waitTime{15000};       // per blocking query
    std::chrono::milliseconds lockDelayRetry{5000};  // Go api.DefaultLockRetryTime
    std::chrono::milliseconds monitorRetryTime{1000};
    int monitorRetries = 3;
  };
  enum class Outcome { kAcquired, kTimedOut, kCancelled };

  KvLock(const ApiClient& client, Options options) : client_(client), opts_(std::move(options)) {}
  ~KvLock() { stopThreads(); }

  Status createSession();
  void startRenewal();
  // Blocks until the lock is held, `deadline` passes, or `cancelled` returns true.
  Result<Outcome> acquire(std::optional<std::chrono::steady_clock::time_point> deadline,
                          const std::function<bool()>& cancelled);
  void startMonitor();
  // Set by the monitor or the renewer once the lock cannot be trusted any more.
  bool lost() const { return lost_.load(); }
  void stopThreads();
  // Release the key, delete it if nobody else wants it, destroy the session.
  Status release();
  Status cleanup();
  Status destroySession();

  const std::string& sessionId() const { return session_; }

 private:
  struct KeyState {
    bool exists = false;
    uint64_t flags = 0;
    std::string session;
    uint64_t modifyIndex = 0;
    uint64_t index = 0;  // X-Consul-Index
  };
  Result<KeyState> readKey(uint64_t waitIndex, std::chrono::milliseconds wait,
                           const std::function<bool()>& cancelled) const;
  Result<bool> putKey(std::string_view op) const;  // op: "acquire" or "release"
  bool sleepUnlessStopped(std::chrono::milliseconds d) const;
  void renewLoop();
  void monitorLoop();

  const ApiClient& client_;
  Options opts_;
  std::string session_;
  uint64_t heldIndex_ = 0;
  std::atomic<bool> lost_{false};
  std::atomic<bool> stop_{false};
  std::thread renewer_;
  std::thread monitor_;
};

}  // namespace trellis::cli
