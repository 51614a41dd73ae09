#include "state/store.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

namespace trellis::state {
namespace {

using google::protobuf::util::MessageDifferencer;

// True when `a` and `b` differ only in their raft indexes.
template <typename M>
bool sameContent(const M& a, const M& b) {
  M x = a;
  x.set_create_index(b.create_index());
  x.set_modify_index(b.modify_index());
  return MessageDifferencer::Equals(x, b);
}

bool hasPrefix(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void Store::bump(uint64_t idx, const char* table) {
  auto& cur = table_index_[table];
  if (idx > cur) cur = idx;
  if (idx > last_index_) last_index_ = idx;
  watches_.fire(WatchHub::tableTopic(table));
}

uint64_t Store::tableIndex(const std::string& table) const {
  auto it = table_index_.find(table);
  return it == table_index_.end() ? 0 : it->second;
}

uint64_t Store::maxIndex(std::initializer_list<const char*> tables) const {
  uint64_t m = 0;
  for (const char* t : tables) m = std::max(m, tableIndex(t));
  return m;
}

// ---------------------------------------------------------------- catalog reads

const pb::Node* Store::node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

const pb::Service* Store::service(const std::string& node, const std::string& id) const {
  auto it = services_.find({node, id});
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<const pb::Service*> Store::servicesByName(const std::string& name) const {
  std::vector<const pb::Service*> out;
  auto it = services_by_name_.find(name);
  if (it == services_by_name_.end()) return out;
  for (const auto& key : it->second) out.push_back(&services_.at(key));
  return out;
}

std::vector<const pb::Service*> Store::nodeServices(const std::string& node) const {
  std::vector<const pb::Service*> out;
  for (auto it = services_.lower_bound({node, ""}); it != services_.end() && it->first.first == node;
       ++it) {
    out.push_back(&it->second);
  }
  return out;
}

const pb::Check* Store::check(const std::string& node, const std::string& id) const {
  auto it = checks_.find({node, id});
  return it == checks_.end() ? nullptr : &it->second;
}

std::vector<const pb::Check*> Store::nodeChecks(const std::string& node) const {
  std::vector<const pb::Check*> out;
  for (auto it = checks_.lower_bound({node, ""}); it != checks_.end() && it->first.first == node;
       ++it) {
    out.push_back(&it->second);
  }
  return out;
}

std::vector<const pb::Check*> Store::serviceInstanceChecks(const std::string& node,
                                                           const std::string& service_id) const {
  std::vector<const pb::Check*> out;
  for (const pb::Check* c : nodeChecks(node)) {
    if (c->service_id() == service_id) out.push_back(c);
  }
  return out;
}

std::vector<const pb::Check*> Store::checksOfService(const std::string& service_name) const {
  std::vector<const pb::Check*> out;
  for (const auto& [key, c] : checks_) {
    if (!c.service_id().empty() && c.service_name() == service_name) out.push_back(&c);
  }
  return out;
}

// ---------------------------------------------------------------- catalog writes

Status Store::ensureNode(uint64_t idx, const pb::Node& in) {
  if (in.node().empty()) return invalidArgument("Must provide node");
  auto it = nodes_.find(in.node());
  if (it != nodes_.end()) {
    if (sameContent(in, it->second)) return Status::ok();
    uint64_t created = it->second.create_index();
    it->second = in;
    it->second.set_create_index(created);
    it->second.set_modify_index(idx);
  } else {
    pb::Node n = in;
    n.set_create_index(idx);
    n.set_modify_index(idx);
    nodes_.emplace(n.node(), std::move(n));
  }
  bump(idx, kNodes);
  return Status::ok();
}

Status Store::ensureService(uint64_t idx, const pb::Service& in) {
  if (nodes_.find(in.node()) == nodes_.end()) {
    return invalidArgument("failed inserting service: node \"" + in.node() + "\" does not exist");
  }
  NodeKey key{in.node(), in.id()};
  auto it = services_.find(key);
  if (it != services_.end()) {
    if (sameContent(in, it->second)) return Status::ok();
    if (it->second.service() != in.service()) {
      auto& set = services_by_name_[it->second.service()];
      set.erase(key);
      if (set.empty()) services_by_name_.erase(it->second.service());
    }
    uint64_t created = it->second.create_index();
    it->second = in;
    it->second.set_create_index(created);
    it->second.set_modify_index(idx);
  } else {
    pb::Service s = in;
    s.set_create_index(idx);
    s.set_modify_index(idx);
    it = services_.emplace(key, std::move(s)).first;
  }
  services_by_name_[in.service()].insert(key);
  bump(idx, kServices);

  // Checks carry the service's name and tags; keep them in step.
  bool checks_changed = false;
  for (auto& [ckey, c] : checks_) {
    if (ckey.first != in.node() || c.service_id() != in.id()) continue;
    bool tags_same = std::equal(c.service_tags().begin(), c.service_tags().end(),
                                in.tags().begin(), in.tags().end());
    if (c.service_name() == in.service() && tags_same) continue;
    c.set_service_name(in.service());
    *c.mutable_service_tags() = in.tags();
    c.set_modify_index(idx);
    checks_changed = true;
  }
  if (checks_changed) bump(idx, kChecks);
  return Status::ok();
}

Status Store::ensureCheck(uint64_t idx, const pb::Check& in) {
  if (in.check_id().empty()) return invalidArgument("Missing check ID");
  if (nodes_.find(in.node()) == nodes_.end()) {
    return invalidArgument("failed inserting check: node \"" + in.node() + "\" does not exist");
  }
  pb::Check c = in;
  if (c.status().empty()) c.set_status("critical");
  if (!c.service_id().empty()) {
    const pb::Service* svc = service(c.node(), c.service_id());
    if (svc == nullptr) {
      return invalidArgument("Missing service for check \"" + c.check_id() + "\": service \"" +
                             c.service_id() + "\" is not registered on node \"" + c.node() + "\"");
    }
    c.set_service_name(svc->service());
    *c.mutable_service_tags() = svc->tags();
  } else {
    c.clear_service_name();
    c.clear_service_tags();
  }
  NodeKey key{c.node(), c.check_id()};
  auto it = checks_.find(key);
  if (it != checks_.end()) {
    if (sameContent(c, it->second)) return Status::ok();
    c.set_create_index(it->second.create_index());
    c.set_modify_index(idx);
    it->second = c;
  } else {
    c.set_create_index(idx);
    c.set_modify_index(idx);
    checks_.emplace(key, c);
  }
  bump(idx, kChecks);
  if (c.status() == "critical") invalidateSessionsForCheck(idx, c);
  return Status::ok();
}

void Store::deleteCheck(uint64_t idx, const std::string& node, const std::string& id) {
  auto it = checks_.find({node, id});
  if (it == checks_.end()) return;
  pb::Check gone = std::move(it->second);
  checks_.erase(it);
  bump(idx, kChecks);
  invalidateSessionsForCheck(idx, gone);
}

void Store::deleteService(uint64_t idx, const std::string& node, const std::string& id) {
  auto it = services_.find({node, id});
  if (it == services_.end()) return;
  std::vector<std::string> check_ids;
  for (const pb::Check* c : serviceInstanceChecks(node, id)) check_ids.push_back(c->check_id());
  for (const auto& cid : check_ids) deleteCheck(idx, node, cid);
  auto& set = services_by_name_[it->second.service()];
  set.erase(it->first);
  if (set.empty()) services_by_name_.erase(it->second.service());
  services_.erase(it);
  bump(idx, kServices);
}

void Store::deleteNode(uint64_t idx, const std::string& node) {
  if (nodes_.find(node) == nodes_.end()) return;
  std::vector<std::string> ids;
  for (const pb::Service* s : nodeServices(node)) ids.push_back(s->id());
  for (const auto& id : ids) deleteService(idx, node, id);
  ids.clear();
  for (const pb::Check* c : nodeChecks(node)) ids.push_back(c->check_id());
  for (const auto& id : ids) deleteCheck(idx, node, id);
  std::vector<std::string> sessions;
  for (const auto& [sid, s] : sessions_) {
    if (s.node() == node) sessions.push_back(sid);
  }
  for (const auto& sid : sessions) sessionDestroy(idx, sid);
  nodes_.erase(node);
  bump(idx, kNodes);
}

// ---------------------------------------------------------------- KV

const pb::KVEntry* Store::kvGet(const std::string& key) const {
  auto it = kvs_.find(key);
  return it == kvs_.end() ? nullptr : &it->second;
}

uint64_t Store::kvKeyIndex(const std::string& key) const {
  const pb::KVEntry* e = kvGet(key);
  return e != nullptr ? e->modify_index() : tableIndex(kKvs);
}

std::vector<const pb::KVEntry*> Store::kvList(const std::string& prefix, uint64_t* index) const {
  std::vector<const pb::KVEntry*> out;
  uint64_t lindex = 0;
  for (auto it = kvs_.lower_bound(prefix); it != kvs_.end() && hasPrefix(it->first, prefix); ++it) {
    out.push_back(&it->second);
    lindex = std::max(lindex, it->second.modify_index());
  }
  if (index != nullptr) {
    if (prefix.empty()) {
      lindex = tableIndex(kKvs);
    } else {
      for (auto it = tombstones_.lower_bound(prefix);
           it != tombstones_.end() && hasPrefix(it->first, prefix); ++it) {
        lindex = std::max(lindex, it->second);
      }
    }
    *index = lindex != 0 ? lindex : tableIndex(kKvs);
  }
  return out;
}

void Store::putKv(uint64_t idx, pb::KVEntry entry, const pb::KVEntry* existing) {
  entry.set_create_index(existing != nullptr ? existing->create_index() : idx);
  entry.set_modify_index(idx);
  std::string key = entry.key();
  tombstones_.erase(key);
  kvs_[key] = std::move(entry);
  bump(idx, kKvs);
  watches_.fireKv(key);
}

void Store::kvSet(uint64_t idx, const pb::KVEntry& in) {
  const pb::KVEntry* existing = kvGet(in.key());
  pb::KVEntry e = in;
  e.set_lock_index(existing != nullptr ? existing->lock_index() : 0);
  e.set_session(existing != nullptr ? existing->session() : "");
  putKv(idx, std::move(e), existing);
}

bool Store::kvCas(uint64_t idx, const pb::KVEntry& in) {
  const pb::KVEntry* existing = kvGet(in.key());
  if (in.modify_index() == 0 ? existing != nullptr
                             : (existing == nullptr || existing->modify_index() != in.modify_index())) {
    return false;
  }
  kvSet(idx, in);
  return true;
}

bool Store::kvLock(uint64_t idx, const pb::KVEntry& in) {
  if (sessions_.find(in.session()) == sessions_.end()) return false;
  const pb::KVEntry* existing = kvGet(in.key());
  pb::KVEntry e = in;
  if (existing != nullptr && !existing->session().empty()) {
    if (existing->session() != in.session()) return false;
    e.set_lock_index(existing->lock_index());  // re-acquire by the holder
  } else {
    e.set_lock_index((existing != nullptr ? existing->lock_index() : 0) + 1);
  }
  session_keys_[in.session()].insert(in.key());
  putKv(idx, std::move(e), existing);
  return true;
}

bool Store::kvUnlock(uint64_t idx, const pb::KVEntry& in) {
  const pb::KVEntry* existing = kvGet(in.key());
  if (existing == nullptr || existing->session().empty() || existing->session() != in.session()) {
    return false;
  }
  pb::KVEntry e = in;
  e.set_lock_index(existing->lock_index());
  e.clear_session();
  auto sk = session_keys_.find(in.session());
  if (sk != session_keys_.end()) sk->second.erase(in.key());
  putKv(idx, std::move(e), existing);
  return true;
}

void Store::kvDelete(uint64_t idx, const std::string& key) {
  auto it = kvs_.find(key);
  if (it == kvs_.end()) return;
  if (!it->second.session().empty()) {
    auto sk = session_keys_.find(it->second.session());
    if (sk != session_keys_.end()) sk->second.erase(key);
  }
  kvs_.erase(it);
  tombstones_[key] = idx;
  bump(idx, kKvs);
  watches_.fireKv(key);
}

bool Store::kvDeleteCas(uint64_t idx, const std::string& key, uint64_t expected) {
  const pb::KVEntry* existing = kvGet(key);
  if (existing == nullptr || existing->modify_index() != expected) return false;
  kvDelete(idx, key);
  return true;
}

void Store::kvDeleteTree(uint64_t idx, const std::string& prefix) {
  std::vector<std::string> keys;
  for (auto it = kvs_.lower_bound(prefix); it != kvs_.end() && hasPrefix(it->first, prefix); ++it) {
    keys.push_back(it->first);
  }
  for (const auto& k : keys) kvDelete(idx, k);
}

bool Store::kvLockDelayed(const std::string& key) const {
  auto it = lock_delay_.find(key);
  return it != lock_delay_.end() && clock_() < it->second;
}

// ---------------------------------------------------------------- sessions

const pb::Session* Store::session(const std::string& id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::vector<const pb::Session*> Store::nodeSessions(const std::string& node) const {
  std::vector<const pb::Session*> out;
  for (const auto& [id, s] : sessions_) {
    if (s.node() == node) out.push_back(&s);
  }
  return out;
}

Status Store::sessionCreate(uint64_t idx, const pb::Session& in) {
  if (in.id().empty()) return invalidArgument("Missing session ID");
  if (nodes_.find(in.node()) == nodes_.end()) {
    return invalidArgument("Missing node registration");
  }
  for (const auto& cid : in.node_checks()) {
    const pb::Check* c = check(in.node(), cid);
    if (c == nullptr) return invalidArgument("Missing check '" + cid + "' registration");
    if (c->status() == "critical") {
      return invalidArgument("Check '" + cid + "' is in critical state");
    }
  }
  for (const auto& sc : in.service_checks()) {
    const pb::Check* c = check(in.node(), sc.id());
    if (c == nullptr) return invalidArgument("Missing check '" + sc.id() + "' registration");
    if (c->status() == "critical") {
      return invalidArgument("Check '" + sc.id() + "' is in critical state");
    }
  }
  if (sessions_.count(in.id()) != 0) return invalidArgument("Session ID already exists");
  pb::Session s = in;
  s.set_create_index(idx);
  s.set_modify_index(idx);
  sessions_.emplace(s.id(), std::move(s));
  bump(idx, kSessions);
  return Status::ok();
}

bool Store::sessionDestroy(uint64_t idx, const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  pb::Session s = std::move(it->second);
  sessions_.erase(it);
  std::set<std::string> keys;
  if (auto sk = session_keys_.find(id); sk != session_keys_.end()) {
    keys = std::move(sk->second);
    session_keys_.erase(sk);
  }
  auto delay = std::chrono::nanoseconds(s.lock_delay_ns());
  for (const auto& key : keys) {
    const pb::KVEntry* e = kvGet(key);
    if (e == nullptr || e->session() != id) continue;
    if (delay.count() > 0) lock_delay_[key] = clock_() + delay;
    if (s.behavior() == "delete") {
      kvDelete(idx, key);
    } else {
      pb::KVEntry released = *e;
      released.clear_session();
      putKv(idx, std::move(released), e);
    }
  }
  bump(idx, kSessions);
  return true;
}

void Store::invalidateSessionsForCheck(uint64_t idx, const pb::Check& check) {
  std::vector<std::string> doomed;
  for (const auto& [sid, s] : sessions_) {
    if (s.node() != check.node()) continue;
    bool bound = std::find(s.node_checks().begin(), s.node_checks().end(), check.check_id()) !=
                 s.node_checks().end();
    for (const auto& sc : s.service_checks()) bound = bound || sc.id() == check.check_id();
    if (bound) doomed.push_back(sid);
  }
  for (const auto& sid : doomed) sessionDestroy(idx, sid);
}

// ---------------------------------------------------------------- config entries

const pb::ConfigEntry* Store::configEntry(const std::string& kind, const std::string& name) const {
  auto it = config_entries_.find({kind, name});
  return it == config_entries_.end() ? nullptr : &it->second;
}

std::vector<const pb::ConfigEntry*> Store::configEntries(const std::string& kind) const {
  std::vector<const pb::ConfigEntry*> out;
  for (auto it = config_entries_.lower_bound({kind, ""});
       it != config_entries_.end() && it->first.first == kind; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

bool Store::configEntrySet(uint64_t idx, const pb::ConfigEntry& in, const uint64_t* cas) {
  auto key = std::make_pair(in.kind(), in.name());
  auto it = config_entries_.find(key);
  if (cas != nullptr) {
    bool ok = *cas == 0 ? it == config_entries_.end()
                        : (it != config_entries_.end() && it->second.modify_index() == *cas);
    if (!ok) return false;
  }
  pb::ConfigEntry e = in;
  e.set_create_index(it != config_entries_.end() ? it->second.create_index() : idx);
  e.set_modify_index(idx);
  config_entries_[key] = std::move(e);
  bump(idx, kConfigEntries);
  return true;
}

bool Store::configEntryDelete(uint64_t idx, const std::string& kind, const std::string& name,
                              const uint64_t* cas) {
  auto it = config_entries_.find({kind, name});
  if (it == config_entries_.end()) return cas == nullptr;
  if (cas != nullptr && it->second.modify_index() != *cas) return false;
  config_entries_.erase(it);
  bump(idx, kConfigEntries);
  return true;
}

// ---------------------------------------------------------------- Connect CA

void Store::caSet(uint64_t idx, const pb::CaState& in) {
  std::map<std::string, uint64_t> created;
  for (const auto& r : ca_.roots()) created[r.id()] = r.create_index();
  bool config_changed = !sameContent(in.config(), ca_.config());
  pb::CaState next = in;
  for (auto& r : *next.mutable_roots()) {
    auto it = created.find(r.id());
    r.set_create_index(it != created.end() ? it->second : idx);
    r.set_modify_index(idx);
  }
  next.mutable_config()->set_create_index(ca_.has_config() ? ca_.config().create_index() : idx);
  next.mutable_config()->set_modify_index(config_changed || !ca_.has_config()
                                              ? idx
                                              : ca_.config().modify_index());
  ca_ = std::move(next);
  bump(idx, kCaRoots);
  bump(idx, kCaConfig);
}

// ---------------------------------------------------------------- snapshot

pb::Snapshot Store::snapshot() const {
  pb::Snapshot snap;
  snap.set_index(last_index_);
  for (const auto& [k, v] : nodes_) *snap.add_nodes() = v;
  for (const auto& [k, v] : services_) *snap.add_services() = v;
  for (const auto& [k, v] : checks_) *snap.add_checks() = v;
  for (const auto& [k, v] : kvs_) *snap.add_kvs() = v;
  for (const auto& [k, v] : sessions_) *snap.add_sessions() = v;
  for (const auto& [k, v] : config_entries_) *snap.add_config_entries() = v;
  *snap.mutable_ca() = ca_;
  for (const auto& [k, v] : table_index_) {
    auto* t = snap.add_table_indexes();
    t->set_table(k);
    t->set_index(v);
  }
  for (const auto& [k, v] : tombstones_) {
    auto* t = snap.add_tombstones();
    t->set_key(k);
    t->set_index(v);
  }
  return snap;
}

void Store::restore(const pb::Snapshot& snap) {
  nodes_.clear();
  services_.clear();
  services_by_name_.clear();
  checks_.clear();
  kvs_.clear();
  tombstones_.clear();
  sessions_.clear();
  session_keys_.clear();
  lock_delay_.clear();
  table_index_.clear();
  config_entries_.clear();
  last_index_ = snap.index();
  for (const auto& n : snap.nodes()) nodes_[n.node()] = n;
  for (const auto& s : snap.services()) {
    services_[{s.node(), s.id()}] = s;
    services_by_name_[s.service()].insert({s.node(), s.id()});
  }
  for (const auto& c : snap.checks()) checks_[{c.node(), c.check_id()}] = c;
  for (const auto& e : snap.kvs()) {
    kvs_[e.key()] = e;
    if (!e.session().empty()) session_keys_[e.session()].insert(e.key());
  }
  for (const auto& s : snap.sessions()) sessions_[s.id()] = s;
  for (const auto& e : snap.config_entries()) config_entries_[{e.kind(), e.name()}] = e;
  ca_ = snap.ca();
  for (const auto& t : snap.table_indexes()) table_index_[t.table()] = t.index();
  for (const auto& t : snap.tombstones()) tombstones_[t.key()] = t.index();
  for (const char* t : {kNodes, kServices, kChecks, kKvs, kSessions, kConfigEntries, kCaRoots,
                        kCaConfig}) {
    watches_.fire(WatchHub::tableTopic(t));
  }
}

}  // namespace trellis::state
