#pragma once
// The state store: Trellis' in-memory catalog, KV, and session tables.
//
// Every row carries CreateIndex/ModifyIndex from the log entry that wrote it; every table keeps
// the index of its last change. Writes come only from the FSM (src/server) while it applies a
// log entry; readers (HTTP handlers, DNS, checks) run on the same core loop between entries, so
// reads need no locks and always see whole transactions. Writes fire the watch topics they touch.
//
// Rules that belong to the data (a check needs its service, a session needs its node, lock
// semantics, session invalidation) live here so every log implementation applies them the same.

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "state/watch.h"
#include "trellis.pb.h"

namespace trellis::state {

inline constexpr const char* kNodes = "nodes";
inline constexpr const char* kServices = "services";
inline constexpr const char* kChecks = "checks";
inline constexpr const char* kKvs = "kvs";
inline constexpr const char* kSessions = "sessions";
inline constexpr const char* kConfigEntries = "config-entries";
inline constexpr const char* kCaRoots = "connect-ca-roots";
inline constexpr const char* kCaConfig = "connect-ca-config";

using NodeKey = std::pair<std::string, std::string>;  // (node, id)

class Store {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit Store(Clock clock = [] { return std::chrono::steady_clock::now(); })
      : clock_(std::move(clock)) {}

  WatchHub& watches() { return watches_; }

  // ---- indexes ----
  uint64_t tableIndex(const std::string& table) const;
  uint64_t maxIndex(std::initializer_list<const char*> tables) const;
  uint64_t lastIndex() const { return last_index_; }

  // ---- catalog reads ----
  const std::map<std::string, pb::Node>& nodes() const { return nodes_; }
  const pb::Node* node(const std::string& name) const;
  const std::map<NodeKey, pb::Service>& services() const { return services_; }
  const pb::Service* service(const std::string& node, const std::string& id) const;
  std::vector<const pb::Service*> servicesByName(const std::string& name) const;
  std::vector<const pb::Service*> nodeServices(const std::string& node) const;
  const std::map<NodeKey, pb::Check>& checks() const { return checks_; }
  const pb::Check* check(const std::string& node, const std::string& id) const;
  std::vector<const pb::Check*> nodeChecks(const std::string& node) const;
  // Checks of one service instance (not the node-level ones).
  std::vector<const pb::Check*> serviceInstanceChecks(const std::string& node,
                                                      const std::string& service_id) const;
  std::vector<const pb::Check*> checksOfService(const std::string& service_name) const;

  // ---- catalog writes (FSM only) ----
  Status ensureNode(uint64_t idx, const pb::Node& node);
  Status ensureService(uint64_t idx, const pb::Service& svc);
  Status ensureCheck(uint64_t idx, const pb::Check& check);
  void deleteNode(uint64_t idx, const std::string& node);
  void deleteService(uint64_t idx, const std::string& node, const std::string& id);
  void deleteCheck(uint64_t idx, const std::string& node, const std::string& id);

  // ---- KV ----
  const pb::KVEntry* kvGet(const std::string& key) const;
  // Entries under `prefix` in key order, and the index a blocking list query should report.
  std::vector<const pb::KVEntry*> kvList(const std::string& prefix, uint64_t* index) const;
  // Index for a single-key read: the entry's ModifyIndex, else the table index.
  uint64_t kvKeyIndex(const std::string& key) const;
  void kvSet(uint64_t idx, const pb::KVEntry& in);
  bool kvCas(uint64_t idx, const pb::KVEntry& in);  // in.modify_index = expected (0: create only)
  bool kvLock(uint64_t idx, const pb::KVEntry& in);
  bool kvUnlock(uint64_t idx, const pb::KVEntry& in);
  void kvDelete(uint64_t idx, const std::string& key);
  bool kvDeleteCas(uint64_t idx, const std::string& key, uint64_t expected);
  void kvDeleteTree(uint64_t idx, const std::string& prefix);
  // True while a key is inside the lock-delay window after its session was invalidated.
  bool kvLockDelayed(const std::string& key) const;

  // ---- sessions ----
  const std::map<std::string, pb::Session>& sessions() const { return sessions_; }
  const pb::Session* session(const std::string& id) const;
  std::vector<const pb::Session*> nodeSessions(const std::string& node) const;
  Status sessionCreate(uint64_t idx, const pb::Session& s);
  // Invalidates a session: releases or deletes the keys it holds (per Behavior), starts their lock
  // delay. Returns false when no such session exists.
  bool sessionDestroy(uint64_t idx, const std::string& id);

  // ---- config entries ----
  const pb::ConfigEntry* configEntry(const std::string& kind, const std::string& name) const;
  std::vector<const pb::ConfigEntry*> configEntries(const std::string& kind) const;
  // Upsert; with `cas`, only when the current ModifyIndex equals *cas (0: only if absent).
  bool configEntrySet(uint64_t idx, const pb::ConfigEntry& e, const uint64_t* cas = nullptr);
  // Delete; with `cas`, only when the current ModifyIndex equals *cas. Absent entries: true
  // without cas (idempotent), false with cas.
  bool configEntryDelete(uint64_t idx, const std::string& kind, const std::string& name,
                         const uint64_t* cas = nullptr);

  // ---- Connect CA ----
  const pb::CaState& ca() const { return ca_; }
  // Replaces config and roots; roots new to the state get `idx` as CreateIndex.
  void caSet(uint64_t idx, const pb::CaState& state);

  // ---- snapshot ----
  pb::Snapshot snapshot() const;
  void restore(const pb::Snapshot& snap);

 private:
  void bump(uint64_t idx, const char* table);
  void invalidateSessionsForCheck(uint64_t idx, const pb::Check& check);
  void putKv(uint64_t idx, pb::KVEntry entry, const pb::KVEntry* existing);

  Clock clock_;
  WatchHub watches_;
  uint64_t last_index_ = 0;
  std::unordered_map<std::string, uint64_t> table_index_;

  std::map<std::string, pb::Node> nodes_;
  std::map<NodeKey, pb::Service> services_;
  std::unordered_map<std::string, std::set<NodeKey>> services_by_name_;
  std::map<NodeKey, pb::Check> checks_;
  std::map<std::string, pb::KVEntry> kvs_;
  std::map<std::string, uint64_t> tombstones_;
  std::map<std::string, pb::Session> sessions_;
  std::unordered_map<std::string, std::set<std::string>> session_keys_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> lock_delay_;
  std::map<std::pair<std::string, std::string>, pb::ConfigEntry> config_entries_;
  pb::CaState ca_;
};

}  // namespace trellis::state
