#include "xds/server/delta_stream.h"

#include <algorithm>

#include "common/log.h"

namespace trellis::xds {

namespace {

constexpr std::string_view kWildcard = "*";

}  // namespace

DeltaStream::DeltaStream(XdsMetrics& metrics, std::string label)
    : metrics_(metrics), label_(std::move(label)) {}

std::vector<Interest> DeltaStream::onRequest(const Request& request) {
  std::vector<Interest> out;
  auto index = typeIndex(request.type_url());
  if (!index) {
    metrics_.unknown_types.fetch_add(1, std::memory_order_relaxed);
    if (!unknown_logged_) {
      unknown_logged_ = true;
      TLOG_WARN("xds: {}: ignoring request for unknown type '{}' (logged once per stream)", label_,
                request.type_url().substr(0, 200));
    }
    return out;
  }
  TypeState& t = types_[*index];
  if (!request.response_nonce().empty()) handleAck(t, request);

  const bool first = !t.subscribed;
  bool changed = first;
  if (first) {
    t.subscribed = true;
    t.wildcard =
        request.resource_names_subscribe_size() == 0 && legacyWildcardType(request.type_url());
  }
  for (const auto& name : request.resource_names_subscribe()) {
    if (name == kWildcard) {
      changed |= !t.wildcard;
      t.wildcard = true;
      continue;
    }
    changed |= t.names.insert(name).second;
    // A subscription must be answered even when the client seems to hold the resource: it may
    // have dropped it. On the first request initial_resource_versions say what it really holds.
    if (!first) t.sent.erase(name);
    t.absent_reported.erase(name);
  }
  for (const auto& name : request.resource_names_unsubscribe()) {
    if (name == kWildcard) {
      if (!t.wildcard) continue;
      changed = true;
      t.wildcard = false;
      std::erase_if(t.sent, [&t](const auto& kv) { return !t.names.contains(kv.first); });
      continue;
    }
    if (t.names.erase(name) == 0) continue;
    changed = true;
    t.absent_reported.erase(name);
    // The client forgets an unsubscribed resource itself; no removal is owed.
    if (!t.wildcard) t.sent.erase(name);
  }
  if (first) {
    for (const auto& [name, version] : request.initial_resource_versions()) t.sent[name] = version;
  }
  if (changed) {
    out.push_back(Interest{request.type_url(), {t.names.begin(), t.names.end()}, t.wildcard});
  }
  return out;
}

void DeltaStream::handleAck(TypeState& t, const Request& request) {
  const bool current = request.response_nonce() == t.awaiting_nonce;
  if (current) t.awaiting_nonce.clear();
  if (!request.has_error_detail()) {
    metrics_.acks.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  metrics_.nacks.fetch_add(1, std::memory_order_relaxed);
  // Only NACKs of our latest response are logged at warn: they are bounded by what we send,
  // whereas a client can repeat stale ones at will.
  if (current) {
    TLOG_WARN("xds: {}: client rejected {} (nonce {}): code {}: {}", label_, request.type_url(),
              request.response_nonce(), request.error_detail().code(),
              request.error_detail().message().substr(0, 1000));
  } else {
    TLOG_DEBUG("xds: {}: stale NACK for {} (nonce {})", label_, request.type_url(),
               request.response_nonce().substr(0, 64));
  }
}

void DeltaStream::onResourceSet(ResourceSetPtr set) {
  if (set && set->complete) set_ = std::move(set);
}

std::optional<DeltaStream::Response> DeltaStream::nextResponse() {
  settled_ = false;
  if (!set_) return std::nullopt;
  static const size_t kClusters = *typeIndex(kClusterType);
  static const size_t kListeners = *typeIndex(kListenerType);
  bool held = false;
  for (size_t i = 0; i < kPushOrder.size(); ++i) {
    // A listener must not reference a cluster the proxy has not accepted yet.
    if (i == kListeners && !types_[kClusters].awaiting_nonce.empty()) {
      held = types_[i].subscribed;
      continue;
    }
    if (auto response = buildFor(i)) return response;
  }
  settled_ = !held && std::any_of(types_.begin(), types_.end(),
                                  [](const TypeState& t) { return t.subscribed; });
  return std::nullopt;
}

std::optional<DeltaStream::Response> DeltaStream::buildFor(size_t index) {
  TypeState& t = types_[index];
  if (!t.subscribed) return std::nullopt;
  const std::string_view type_url = kPushOrder[index];
  static const TypeResources kEmpty;
  auto found = set_->by_type.find(type_url);
  const TypeResources& have = found == set_->by_type.end() ? kEmpty : found->second;

  std::vector<const Resource*> updates;
  auto consider = [&](const Resource& r) {
    auto it = t.sent.find(r.name);
    if (it == t.sent.end() || it->second != r.version) updates.push_back(&r);
  };
  if (t.wildcard) {
    for (const auto& [name, r] : have) consider(*r);
  } else {
    for (const auto& name : t.names) {
      if (auto it = have.find(name); it != have.end()) consider(*it->second);
    }
  }
  std::vector<std::string> removed;
  for (auto it = t.sent.begin(); it != t.sent.end();) {
    const bool wanted = t.wildcard || t.names.contains(it->first);
    if (wanted && have.contains(it->first)) {
      ++it;
      continue;
    }
    removed.push_back(it->first);
    it = t.sent.erase(it);
  }
  // Telling the client that a name it asked for does not exist spares it a fetch timeout.
  for (const auto& name : t.names) {
    if (have.contains(name) || t.sent.contains(name) || t.absent_reported.contains(name)) continue;
    removed.push_back(name);
    t.absent_reported.insert(name);
  }
  // The first response is owed even when empty: the proxy's initialisation waits for it.
  if (updates.empty() && removed.empty() && t.responded) return std::nullopt;

  Response response;
  response.set_type_url(std::string(type_url));
  response.set_system_version_info(std::to_string(set_->index));
  response.set_nonce(std::to_string(++nonce_counter_));
  for (const Resource* r : updates) {
    auto* out = response.add_resources();
    out->set_name(r->name);
    out->set_version(r->version);
    out->mutable_resource()->set_type_url(std::string(type_url));
    out->mutable_resource()->set_value(r->body);
    t.sent[r->name] = r->version;
    t.absent_reported.erase(r->name);
  }
  for (auto& name : removed) response.add_removed_resources(std::move(name));
  t.responded = true;
  t.awaiting_nonce = response.nonce();
  return response;
}

std::map<std::string, std::string> DeltaStream::clientVersions(std::string_view type_url) const {
  auto index = typeIndex(type_url);
  return index ? types_[*index].sent : std::map<std::string, std::string>{};
}

bool DeltaStream::awaitingAck(std::string_view type_url) const {
  auto index = typeIndex(type_url);
  return index && !types_[*index].awaiting_nonce.empty();
}

}  // namespace trellis::xds
