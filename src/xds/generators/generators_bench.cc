// Times generate() for a sidecar with 5 upstreams x 10 endpoints, without and with a shared
// LoadAssignmentCache (the ADS server's case: many proxies sharing endpoint sets). Not a test.
//
//   ./build/src/xds/generators/xds_generators_bench [iterations]

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "xds/generators/generators.h"
#include "xds/generators/test_snapshots.h"

namespace {

template <typename F>
double nsPerOp(int iterations, F&& f) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - start;
  return d.count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace trellis;
  int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  if (iterations <= 0) iterations = 2000;
  const auto snap = xds::testing::wideSidecar(5, 10);
  size_t resources = 0;
  double plain = nsPerOp(iterations, [&] {
    auto set = xds::generate(snap);
    resources = 0;
    for (const auto& [type, r] : set->by_type) resources += r.size();
  });
  xds::LoadAssignmentCache cache;
  double cached = nsPerOp(iterations, [&] { xds::generate(snap, &cache); });
  double eds_plain = nsPerOp(iterations, [&] { xds::generateEndpoints(snap); });
  double eds_cached = nsPerOp(iterations, [&] { xds::generateEndpoints(snap, &cache); });
  std::printf("snapshot: 5 upstreams x 10 endpoints, %zu resources, %d iterations\n", resources,
              iterations);
  std::printf("generate()            %10.1f us/op\n", plain / 1000);
  std::printf("generate(cache)       %10.1f us/op  (%.2fx)\n", cached / 1000, plain / cached);
  std::printf("generateEndpoints()   %10.1f us/op\n", eds_plain / 1000);
  std::printf("generateEndpoints(c)  %10.1f us/op  (%.2fx)\n", eds_cached / 1000,
              eds_plain / eds_cached);
  return 0;
}
