#include "xds/generators/load_assignment_cache.h"

namespace trellis::xds {

namespace {

bool sameOwner(const std::weak_ptr<const proxycfg::EndpointSet>& w,
               const std::shared_ptr<const proxycfg::EndpointSet>& s) {
  return !w.expired() && !w.owner_before(s) && !s.owner_before(w);
}

}  // namespace

ResourcePtr LoadAssignmentCache::getOrBuild(const std::shared_ptr<const proxycfg::EndpointSet>& set,
                                            std::string_view cluster_name, const Builder& build) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(set.get());
    if (it != entries_.end() && sameOwner(it->second.owner, set)) {
      for (const auto& [name, res] : it->second.by_cluster) {
        if (name == cluster_name) {
          ++hits_;
          return res;
        }
      }
    }
    ++misses_;
  }
  ResourcePtr built = build();
  std::lock_guard lock(mu_);
  Entry& e = entries_[set.get()];
  if (!sameOwner(e.owner, set)) e = Entry{set, {}};
  for (const auto& [name, res] : e.by_cluster) {
    if (name == cluster_name) return res;  // another thread won the race
  }
  e.by_cluster.emplace_back(std::string(cluster_name), built);
  if (entries_.size() > max_sets_) pruneLocked();
  return built;
}

void LoadAssignmentCache::pruneLocked() {
  std::erase_if(entries_, [](const auto& kv) { return kv.second.owner.expired(); });
  if (entries_.size() > max_sets_) entries_.clear();
}

size_t LoadAssignmentCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t LoadAssignmentCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t LoadAssignmentCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace trellis::xds
