#pragma once
// Endpoint selection for tcp_proxy: round robin, or least-request (fewest active connections on
// this worker, as Envoy counts them). Pure over the endpoint list plus a small per-worker state
// the caller owns, so a worker needs no lock and the choice is unit-testable.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/config.h"

namespace trellis::proxy::data {

// "10.0.0.1:8080": identifies an endpoint across config pushes.
std::string endpointKey(const Endpoint& e);

// What one worker remembers about one cluster between connections.
struct LbState {
  uint64_t next = 0;                                 // round-robin cursor
  std::unordered_map<std::string, uint32_t> active;  // endpointKey -> open upstream connections
};

inline constexpr size_t kNoEndpoint = static_cast<size_t>(-1);

// Picks an endpoint index not in `tried`. Healthy endpoints only, unless none is healthy at all
// (Envoy's panic mode: better to try a failing host than refuse everything). Returns kNoEndpoint
// when every candidate was tried.
size_t pickEndpoint(const std::vector<Endpoint>& endpoints, Cluster::LbPolicy policy,
                    LbState& state, const std::vector<size_t>& tried);

}  // namespace trellis::proxy::data
