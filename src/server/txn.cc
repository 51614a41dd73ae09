// KV transactions: every op is first checked against an overlay of the store (so that later ops
// see earlier ones), and only when all pass are they applied for real, in order. Either all ops
// take effect at the entry's index or none do.
#include <map>
#include <optional>

#include "server/fsm.h"

namespace trellis::server {
namespace {

class Overlay {
 public:
  explicit Overlay(const state::Store& store) : store_(store) {}

  std::optional<pb::KVEntry> get(const std::string& key) const {
    if (auto it = changes_.find(key); it != changes_.end()) return it->second;
    const pb::KVEntry* e = store_.kvGet(key);
    if (e == nullptr) return std::nullopt;
    return *e;
  }
  void put(pb::KVEntry e) { changes_[e.key()] = std::move(e); }
  void erase(const std::string& key) { changes_[key] = std::nullopt; }
  void eraseTree(const std::string& prefix) {
    for (const pb::KVEntry* e : store_.kvList(prefix, nullptr)) changes_[e->key()] = std::nullopt;
    for (auto& [k, v] : changes_) {
      if (k.compare(0, prefix.size(), prefix) == 0) v = std::nullopt;
    }
  }

 private:
  const state::Store& store_;
  std::map<std::string, std::optional<pb::KVEntry>> changes_;
};

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Returns the error text for op `op` against the overlay, updating the overlay when it passes.
std::string check(const state::Store& store, Overlay& ov, const pb::KVOp& op) {
  const pb::KVEntry& in = op.entry();
  const std::string& verb = op.verb();
  auto cur = ov.get(in.key());
  if (verb == "set") {
    ov.put(in);
  } else if (verb == "cas") {
    bool ok = in.modify_index() == 0 ? !cur : (cur && cur->modify_index() == in.modify_index());
    if (!ok) return "failed to set key " + quoted(in.key()) + ", index is stale";
    ov.put(in);
  } else if (verb == "lock") {
    if (store.session(in.session()) == nullptr) {
      return "failed to lock key " + quoted(in.key()) + ": invalid session " + quoted(in.session());
    }
    if (cur && !cur->session().empty() && cur->session() != in.session()) {
      return "failed to lock key " + quoted(in.key()) + ", lock is already held";
    }
    ov.put(in);
  } else if (verb == "unlock") {
    if (!cur || cur->session() != in.session()) {
      return "failed to unlock key " + quoted(in.key()) +
             ", lock isn't held, or is held by another session";
    }
    pb::KVEntry e = in;
    e.clear_session();
    ov.put(e);
  } else if (verb == "get") {
    if (!cur) return "key " + quoted(in.key()) + " doesn't exist";
  } else if (verb == "get-tree" || verb == "get-or-empty") {
  } else if (verb == "check-index") {
    if (!cur) return "key " + quoted(in.key()) + " doesn't exist";
    if (cur->modify_index() != in.modify_index()) {
      return "current modify index " + std::to_string(cur->modify_index()) +
             " != " + std::to_string(in.modify_index());
    }
  } else if (verb == "check-session") {
    if (!cur) return "key " + quoted(in.key()) + " doesn't exist";
    if (cur->session() != in.session()) {
      return "current session " + quoted(cur->session()) + " != " + quoted(in.session());
    }
  } else if (verb == "check-not-exists") {
    if (cur) return "key " + quoted(in.key()) + " exists";
  } else if (verb == "delete") {
    ov.erase(in.key());
  } else if (verb == "delete-cas") {
    if (!cur || cur->modify_index() != in.modify_index()) {
      return "failed to delete key " + quoted(in.key()) + ", index is stale";
    }
    ov.erase(in.key());
  } else if (verb == "delete-tree") {
    ov.eraseTree(in.key());
  } else {
    return "unknown KV verb " + quoted(verb);
  }
  return "";
}

}  // namespace

TxnOutcome Fsm::applyTxn(uint64_t idx, const pb::TxnRequest& req) {
  TxnOutcome out;
  Overlay ov(store_);
  for (int i = 0; i < req.ops_size(); ++i) {
    std::string err = check(store_, ov, req.ops(i).kv());
    if (!err.empty()) out.errors.push_back({i, std::move(err)});
  }
  if (!out.errors.empty()) return out;

  auto addResult = [&](const std::string& key, bool with_value) {
    if (const pb::KVEntry* e = store_.kvGet(key)) {
      out.results.push_back(*e);
      out.with_value.push_back(with_value);
    }
  };
  for (const auto& top : req.ops()) {
    const pb::KVOp& op = top.kv();
    const std::string& verb = op.verb();
    const std::string& key = op.entry().key();
    if (verb == "get-tree") {
      for (const pb::KVEntry* e : store_.kvList(key, nullptr)) {
        out.results.push_back(*e);
        out.with_value.push_back(true);
      }
    } else if (verb == "get" || verb == "get-or-empty") {
      addResult(key, true);
    } else if (verb == "check-index" || verb == "check-session" || verb == "check-not-exists") {
      if (verb != "check-not-exists") addResult(key, false);
    } else {
      applyKv(idx, op);
      if (verb == "set" || verb == "cas" || verb == "lock" || verb == "unlock") {
        addResult(key, false);
      }
    }
  }
  return out;
}

}  // namespace trellis::server
