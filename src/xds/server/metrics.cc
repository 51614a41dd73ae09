#include "xds/server/metrics.h"

#include <bit>

#include <fmt/format.h>

namespace trellis::xds {

void LatencySummary::observe(std::chrono::nanoseconds d) {
  uint64_t ns = d.count() < 0 ? 0 : static_cast<uint64_t>(d.count());
  uint64_t us = ns / 1000;
  size_t bucket = std::min<size_t>(std::bit_width(us), kBuckets - 1);
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

double LatencySummary::sumSeconds() const {
  return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
}

double LatencySummary::quantileSeconds(double q) const {
  std::array<uint64_t, kBuckets> snap{};
  uint64_t total = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    snap[i] = buckets_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  if (total == 0) return 0;
  auto rank = static_cast<uint64_t>(q * static_cast<double>(total));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += snap[i];
    if (seen >= rank) return static_cast<double>(uint64_t{1} << i) / 1e6;
  }
  return static_cast<double>(uint64_t{1} << (kBuckets - 1)) / 1e6;
}

std::string renderPrometheus(const XdsMetrics& m) {
  std::string out;
  auto line = [&out](std::string_view name, std::string_view type, std::string_view help,
                     auto value) {
    fmt::format_to(std::back_inserter(out), "# HELP trellis_xds_{} {}\n# TYPE trellis_xds_{} {}\n",
                   name, help, name, type);
    fmt::format_to(std::back_inserter(out), "trellis_xds_{} {}\n", name, value);
  };
  auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  line("streams_active", "gauge", "ADS streams currently open.", load(m.streams_active));
  line("streams_total", "counter", "ADS streams accepted.", load(m.streams_total));
  line("streams_refused_total", "counter", "ADS streams refused (bad node or source error).",
       load(m.streams_refused));
  line("responses_pushed_total", "counter", "Discovery responses written.",
       load(m.responses_pushed));
  line("resources_sent_total", "counter", "Resources carried by written responses.",
       load(m.resources_sent));
  line("resources_removed_total", "counter", "Removals carried by written delta responses.",
       load(m.resources_removed));
  line("acks_total", "counter", "Responses acknowledged by clients.", load(m.acks));
  line("nacks_total", "counter", "Responses rejected by clients.", load(m.nacks));
  line("unknown_type_requests_total", "counter",
       "Requests for type URLs the server does not serve.", load(m.unknown_types));
  const auto& p = m.push_latency;
  out +=
      "# HELP trellis_xds_push_latency_seconds Time from a resource update to its write "
      "completing.\n# TYPE trellis_xds_push_latency_seconds summary\n";
  for (double q : {0.5, 0.9, 0.99}) {
    fmt::format_to(std::back_inserter(out),
                   "trellis_xds_push_latency_seconds{{quantile=\"{}\"}} {}\n", q,
                   p.quantileSeconds(q));
  }
  fmt::format_to(std::back_inserter(out), "trellis_xds_push_latency_seconds_sum {}\n",
                 p.sumSeconds());
  fmt::format_to(std::back_inserter(out), "trellis_xds_push_latency_seconds_count {}\n", p.count());
  return out;
}

}  // namespace trellis::xds
