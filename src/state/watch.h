#pragma once
// Watch sets: how a write wakes the blocking queries that read what it changed.
//
// A reader registers a Waiter on one or more topics (a table such as "nodes", an exact KV key, or
// a KV prefix) before it parks; a writer fires the topics it touched. Firing calls each waiter's
// callback once and unregisters it (a waiter re-registers when it parks again). Spurious wakes are
// allowed: readers re-evaluate and park again if their index did not move.
//
// Threading: single-threaded, on the core loop that owns the state store. Waiters must outlive
// their registration or call cancel() (the destructor does).

#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trellis::state {

class WatchHub;

class Waiter {
 public:
  explicit Waiter(std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {}
  ~Waiter() { cancel(); }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  void cancel();
  bool fired() const { return fired_; }

 private:
  friend class WatchHub;
  struct Registration {
    WatchHub* hub;
    std::string topic;
    std::list<Waiter*>::iterator it;
  };
  std::function<void()> on_fire_;
  std::vector<Registration> registrations_;
  bool fired_ = false;
};

class WatchHub {
 public:
  static std::string tableTopic(std::string_view table) { return "t:" + std::string(table); }
  static std::string kvKeyTopic(std::string_view key) { return "k:" + std::string(key); }
  static std::string kvPrefixTopic(std::string_view prefix) { return "p:" + std::string(prefix); }

  void watch(Waiter& w, const std::string& topic);
  void fire(const std::string& topic);
  // Fires the exact-key topic of `key` and the prefix topic of every prefix of `key`.
  void fireKv(std::string_view key);
  size_t waiterCount() const { return count_; }

 private:
  friend class Waiter;
  void remove(const std::string& topic, std::list<Waiter*>::iterator it);
  std::unordered_map<std::string, std::list<Waiter*>> topics_;
  size_t count_ = 0;
};

}  // namespace trellis::state
