#pragma once
// Memo of serialised ClusterLoadAssignments keyed by (EndpointSet, cluster name). When a health
// check flips, proxycfg builds one new EndpointSet that thousands of snapshots share; each of
// those proxies regenerates, and all but the first find the assignment here.
//
// Keyed by the set's address, confirmed with a weak_ptr to the same control block, so a set
// freed and another allocated at the same address is never mistaken for the old one. The cache
// never extends a set's lifetime. Thread-safe (one mutex; building happens outside it, so two
// threads may both build the same entry, which is harmless: the bytes are equal).
//
// Owned by whoever owns the generator calls (the ADS server); no global instance.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proxycfg/snapshot.h"
#include "xds/resources.h"

namespace trellis::xds {

class LoadAssignmentCache {
 public:
  // Past `max_sets` entries, expired sets are pruned; if that is not enough, all are dropped.
  explicit LoadAssignmentCache(size_t max_sets = 16384) : max_sets_(max_sets) {}

  using Builder = std::function<ResourcePtr()>;
  ResourcePtr getOrBuild(const std::shared_ptr<const proxycfg::EndpointSet>& set,
                         std::string_view cluster_name, const Builder& build);

  size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Entry {
    std::weak_ptr<const proxycfg::EndpointSet> owner;
    std::vector<std::pair<std::string, ResourcePtr>> by_cluster;  // usually exactly one
  };
  void pruneLocked();

  const size_t max_sets_;
  mutable std::mutex mu_;
  std::unordered_map<const proxycfg::EndpointSet*, Entry> entries_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace trellis::xds
