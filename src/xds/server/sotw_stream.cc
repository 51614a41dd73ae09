#include "xds/server/sotw_stream.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/log.h"

namespace trellis::xds {

namespace {

constexpr std::string_view kWildcard = "*";

// FNV-1a over length-prefixed fields, so ("ab","c") and ("a","bc") differ.
class Hasher {
 public:
  void add(std::string_view s) {
    mix(s.size());
    for (unsigned char c : s) byte(c);
  }
  uint64_t value() const { return h_; }

 private:
  void mix(uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(v >> (8 * i)));
  }
  void byte(unsigned char c) {
    h_ ^= c;
    h_ *= 1099511628211ULL;
  }
  uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace

SotwStream::SotwStream(XdsMetrics& metrics, std::string label)
    : metrics_(metrics), label_(std::move(label)) {}

std::vector<Interest> SotwStream::onRequest(const Request& request) {
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
  if (!request.response_nonce().empty()) {
    if (request.response_nonce() != t.last_nonce) return out;
    t.awaiting = false;
    if (request.has_error_detail()) {
      metrics_.nacks.fetch_add(1, std::memory_order_relaxed);
      TLOG_WARN("xds: {}: client rejected {} version {} (nonce {}), keeps {}: code {}: {}", label_,
                request.type_url(), t.sent_version, request.response_nonce(),
                request.version_info().substr(0, 100), request.error_detail().code(),
                request.error_detail().message().substr(0, 1000));
    } else {
      metrics_.acks.fetch_add(1, std::memory_order_relaxed);
    }
  }

  std::vector<std::string> names(request.resource_names().begin(), request.resource_names().end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  bool star = false;
  if (auto it = std::find(names.begin(), names.end(), kWildcard); it != names.end()) {
    star = true;
    names.erase(it);
  }
  const bool first = !t.subscribed;
  // Legacy wildcard: an empty list on the first request, and on later ones while it lasts.
  const bool wildcard =
      star || (names.empty() && legacyWildcardType(request.type_url()) && (first || t.wildcard));
  if (first || wildcard != t.wildcard || names != t.names) {
    t.subscribed = true;
    t.wildcard = wildcard;
    t.names = std::move(names);
    out.push_back(Interest{request.type_url(), t.names, t.wildcard});
  }
  return out;
}

void SotwStream::onResourceSet(ResourceSetPtr set) {
  if (set && set->complete) set_ = std::move(set);
}

std::optional<SotwStream::Response> SotwStream::nextResponse() {
  settled_ = false;
  if (!set_) return std::nullopt;
  static const size_t kClusters = *typeIndex(kClusterType);
  static const size_t kListeners = *typeIndex(kListenerType);
  bool held = false;
  for (size_t i = 0; i < kPushOrder.size(); ++i) {
    if (i == kListeners && types_[kClusters].awaiting) {
      held = types_[i].subscribed;
      continue;
    }
    if (auto response = buildFor(i)) return response;
  }
  settled_ = !held && std::any_of(types_.begin(), types_.end(),
                                  [](const TypeState& t) { return t.subscribed; });
  return std::nullopt;
}

std::optional<SotwStream::Response> SotwStream::buildFor(size_t index) {
  TypeState& t = types_[index];
  if (!t.subscribed) return std::nullopt;
  const std::string_view type_url = kPushOrder[index];
  static const TypeResources kEmpty;
  auto found = set_->by_type.find(type_url);
  const TypeResources& have = found == set_->by_type.end() ? kEmpty : found->second;

  std::vector<const Resource*> selected;
  Hasher hash;
  hash.add(t.wildcard ? "*" : "");
  if (t.wildcard) {
    for (const auto& [name, r] : have) selected.push_back(r.get());
  } else {
    // The names asked for are part of the content: a client asking for a name that does not
    // exist learns so from a response without it.
    for (const auto& name : t.names) {
      hash.add(name);
      if (auto it = have.find(name); it != have.end()) selected.push_back(it->second.get());
    }
  }
  for (const Resource* r : selected) {
    hash.add(r->name);
    hash.add(r->version);
  }
  if (t.responded && hash.value() == t.sent_hash) return std::nullopt;

  Response response;
  response.set_type_url(std::string(type_url));
  response.set_version_info(fmt::format("{}-{:016x}", set_->index, hash.value()));
  response.set_nonce(std::to_string(++nonce_counter_));
  for (const Resource* r : selected) {
    auto* any = response.add_resources();
    any->set_type_url(std::string(type_url));
    any->set_value(r->body);
  }
  t.responded = true;
  t.awaiting = true;
  t.sent_hash = hash.value();
  t.sent_version = response.version_info();
  t.last_nonce = response.nonce();
  return response;
}

std::string SotwStream::sentVersion(std::string_view type_url) const {
  auto index = typeIndex(type_url);
  return index ? types_[*index].sent_version : std::string();
}

bool SotwStream::awaitingAck(std::string_view type_url) const {
  auto index = typeIndex(type_url);
  return index && types_[*index].awaiting;
}

}  // namespace trellis::xds
