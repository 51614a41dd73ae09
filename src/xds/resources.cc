#include "xds/resources.h"

#include <cstdio>

namespace trellis::xds {

namespace {

// FNV-1a, 64 bits, over the bytes and their length: stable across runs and machines, which is all
// a version needs (it only has to change when the bytes do).
uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= bytes.size();
  h *= 1099511628211ULL;
  return h;
}

}  // namespace

ResourcePtr makeResource(std::string name, std::string body) {
  auto r = std::make_shared<Resource>();
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a(body)));
  r->name = std::move(name);
  r->body = std::move(body);
  r->version = hex;
  return r;
}

ResourcePtr ResourceInterner::intern(const std::string& type_url, ResourcePtr r) {
  std::string key;
  key.reserve(type_url.size() + r->name.size() + r->version.size() + 2);
  key.append(type_url).push_back('\0');
  key.append(r->name).push_back('\0');
  key.append(r->version);
  std::lock_guard lock(mu_);
  auto& slot = map_[key];
  if (auto held = slot.lock(); held && held->body == r->body) return held;
  slot = r;
  // Drop entries nobody holds any more, in amortised O(1).
  if (++inserts_since_prune_ > map_.size() / 2 + 1024) {
    inserts_since_prune_ = 0;
    std::erase_if(map_, [](const auto& kv) { return kv.second.expired(); });
  }
  return r;
}

void ResourceInterner::internAll(ResourceSet& set) {
  for (auto& [type, resources] : set.by_type) {
    for (auto& [name, r] : resources) r = intern(type, r);
  }
}

size_t ResourceInterner::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

}  // namespace trellis::xds
