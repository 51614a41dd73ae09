#include "proxy/data/load_balancer.h"

#include <gtest/gtest.h>

#include <map>

namespace trellis::proxy::data {
namespace {

std::vector<Endpoint> three() {
  return {{"10.0.0.1", 80, true, 1}, {"10.0.0.2", 80, true, 1}, {"10.0.0.3", 80, true, 1}};
}

TEST(LoadBalancer, RoundRobinCyclesThroughHealthyEndpoints) {
  auto eps = three();
  eps[1].healthy = false;
  LbState st;
  std::map<size_t, int> hits;
  for (int i = 0; i < 10; ++i) ++hits[pickEndpoint(eps, Cluster::LbPolicy::kRoundRobin, st, {})];
  EXPECT_EQ(hits.count(1), 0u);
  EXPECT_EQ(hits[0], 5);
  EXPECT_EQ(hits[2], 5);
}

TEST(LoadBalancer, SkipsTriedEndpointsThenGivesUp) {
  auto eps = three();
  LbState st;
  std::vector<size_t> tried;
  for (int i = 0; i < 3; ++i) {
    const size_t p = pickEndpoint(eps, Cluster::LbPolicy::kRoundRobin, st, tried);
    ASSERT_NE(p, kNoEndpoint);
    EXPECT_EQ(std::count(tried.begin(), tried.end(), p), 0);
    tried.push_back(p);
  }
  EXPECT_EQ(pickEndpoint(eps, Cluster::LbPolicy::kRoundRobin, st, tried), kNoEndpoint);
}

TEST(LoadBalancer, LeastRequestPicksFewestActive) {
  auto eps = three();
  LbState st;
  st.active[endpointKey(eps[0])] = 5;
  st.active[endpointKey(eps[1])] = 1;
  st.active[endpointKey(eps[2])] = 3;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(pickEndpoint(eps, Cluster::LbPolicy::kLeastRequest, st, {}), 1u);
  }
  // Ties rotate instead of always landing on the first endpoint.
  LbState tie;
  std::map<size_t, int> hits;
  for (int i = 0; i < 9; ++i) ++hits[pickEndpoint(eps, Cluster::LbPolicy::kLeastRequest, tie, {})];
  EXPECT_EQ(hits[0], 3);
  EXPECT_EQ(hits[1], 3);
  EXPECT_EQ(hits[2], 3);
}

TEST(LoadBalancer, LeastRequestIgnoresUnhealthyEvenWhenIdle) {
  auto eps = three();
  eps[0].healthy = false;
  LbState st;
  st.active[endpointKey(eps[1])] = 2;
  st.active[endpointKey(eps[2])] = 7;
  EXPECT_EQ(pickEndpoint(eps, Cluster::LbPolicy::kLeastRequest, st, {}), 1u);
}

TEST(LoadBalancer, AllUnhealthyFallsBackToAll) {
  auto eps = three();
  for (auto& e : eps) e.healthy = false;
  LbState st;
  EXPECT_NE(pickEndpoint(eps, Cluster::LbPolicy::kRoundRobin, st, {}), kNoEndpoint);
  EXPECT_EQ(pickEndpoint({}, Cluster::LbPolicy::kRoundRobin, st, {}), kNoEndpoint);
}

}  // namespace
}  // namespace trellis::proxy::data
