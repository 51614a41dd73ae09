#pragma once
// Counters of the ADS server, shared by every stream; plain atomics so that the hot path never
// locks. Rendered as Prometheus text by renderPrometheus().

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace trellis::xds {

// A latency summary with fixed power-of-two microsecond buckets: constant memory, lock-free, and
// quantiles accurate to a factor of two, which is enough to see a regression.
class LatencySummary {
 public:
  static constexpr size_t kBuckets = 32;  // bucket i holds values below 2^i microseconds

  void observe(std::chrono::nanoseconds d);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sumSeconds() const;
  // Upper bound of the bucket holding quantile q (0 < q <= 1), in seconds; 0 with no samples.
  double quantileSeconds(double q) const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

struct XdsMetrics {
  std::atomic<int64_t> streams_active{0};
  std::atomic<uint64_t> streams_total{0};
  std::atomic<uint64_t> streams_refused{0};
  std::atomic<uint64_t> responses_pushed{0};
  std::atomic<uint64_t> resources_sent{0};
  std::atomic<uint64_t> resources_removed{0};
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> nacks{0};
  std::atomic<uint64_t> unknown_types{0};
  LatencySummary push_latency;  // from on_update to the write carrying it completing
};

// Prometheus text exposition lines, each metric named trellis_xds_*.
std::string renderPrometheus(const XdsMetrics& metrics);

}  // namespace trellis::xds
