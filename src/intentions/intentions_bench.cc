// Authorize decisions per second on one core with 10,000 intentions (issue 3 target: >= 1e6/s).
// 1,000 destinations x 10 sources (one of them `*`), plus 50 wildcard-destination intentions;
// queries mix exact hits, wildcard hits and misses that fall through to the default.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "intentions/intention_set.h"

using trellis::intentions::DefaultPolicy;
using trellis::intentions::Intention;
using trellis::intentions::IntentionSet;

int main(int argc, char** argv) {
  const int kDests = 1000, kSourcesPerDest = 10;
  const size_t kQueries = 1 << 16;
  const long kDecisions = argc > 1 ? std::atol(argv[1]) : 20'000'000;
  std::vector<Intention> ixns;
  for (int d = 0; d < kDests; ++d) {
    for (int s = 0; s < kSourcesPerDest; ++s) {
      Intention i;
      i.destination_name = "svc-" + std::to_string(d);
      i.source_name = s == 0 ? "*" : "client-" + std::to_string((d * 7 + s) % 5000);
      i.action = (s % 3 == 0) ? "deny" : "allow";
      i.precedence = trellis::intentions::computePrecedence("default", i.source_name, "default",
                                                            i.destination_name);
      ixns.push_back(std::move(i));
    }
  }
  for (int s = 0; s < 50; ++s) {
    Intention i;
    i.destination_name = "*";
    i.source_name = "client-" + std::to_string(s * 97);
    i.action = "allow";
    i.precedence = 6;
    ixns.push_back(std::move(i));
  }
  auto t0 = std::chrono::steady_clock::now();
  auto set = IntentionSet::build(ixns);
  auto t1 = std::chrono::steady_clock::now();

  std::mt19937 rng(42);
  std::vector<std::pair<std::string, std::string>> queries;
  queries.reserve(kQueries);
  for (size_t q = 0; q < kQueries; ++q) {
    queries.emplace_back("client-" + std::to_string(rng() % 6000),
                         "svc-" + std::to_string(rng() % (kDests + 100)));
  }
  DefaultPolicy def{false, false};
  long allowed = 0;
  auto t2 = std::chrono::steady_clock::now();
  for (long n = 0; n < kDecisions; ++n) {
    const auto& q = queries[static_cast<size_t>(n) & (kQueries - 1)];
    allowed += set->authorize(q.first, q.second, def).authorized ? 1 : 0;
  }
  auto t3 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t3 - t2).count();
  std::printf(
      "intentions=%zu build_ms=%.1f decisions=%ld seconds=%.3f decisions_per_sec=%.0f "
      "ns_per_decision=%.1f allowed=%ld\n",
      set->all().size(), std::chrono::duration<double, std::milli>(t1 - t0).count(), kDecisions,
      secs, kDecisions / secs, secs * 1e9 / kDecisions, allowed);
  return 0;
}
