#include "proxy/data/load_balancer.h"

#include <algorithm>

namespace trellis::proxy::data {

std::string endpointKey(const Endpoint& e) { return e.address + ":" + std::to_string(e.port); }

size_t pickEndpoint(const std::vector<Endpoint>& endpoints, Cluster::LbPolicy policy,
                    LbState& state, const std::vector<size_t>& tried) {
  const bool any_healthy =
      std::any_of(endpoints.begin(), endpoints.end(), [](const Endpoint& e) { return e.healthy; });
  auto eligible = [&](size_t i) {
    if (any_healthy && !endpoints[i].healthy) return false;
    return std::find(tried.begin(), tried.end(), i) == tried.end();
  };
  // Rotate over the eligible endpoints, not all of them: skipping an unhealthy one must not hand
  // its turns to its neighbour. Least-request scans from the same cursor so ties rotate too.
  std::vector<size_t> candidates;
  candidates.reserve(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (eligible(i)) candidates.push_back(i);
  }
  if (candidates.empty()) return kNoEndpoint;
  const uint64_t start = state.next++;
  const size_t n = candidates.size();
  if (policy == Cluster::LbPolicy::kRoundRobin) return candidates[start % n];
  size_t best = kNoEndpoint;
  uint32_t best_active = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = candidates[(start + k) % n];
    auto it = state.active.find(endpointKey(endpoints[i]));
    const uint32_t active = it == state.active.end() ? 0 : it->second;
    if (best == kNoEndpoint || active < best_active) {
      best = i;
      best_active = active;
    }
  }
  return best;
}

}  // namespace trellis::proxy::data
