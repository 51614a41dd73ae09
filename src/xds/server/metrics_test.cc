#include "xds/server/metrics.h"

#include <gtest/gtest.h>

namespace trellis::xds {
namespace {

TEST(XdsMetricsTest, RendersCountersAndLatencySummary) {
  XdsMetrics m;
  m.streams_active = 3;
  m.nacks = 2;
  for (int i = 0; i < 98; ++i) m.push_latency.observe(std::chrono::microseconds(100));
  m.push_latency.observe(std::chrono::milliseconds(50));
  m.push_latency.observe(std::chrono::milliseconds(50));
  std::string text = renderPrometheus(m);
  EXPECT_NE(text.find("trellis_xds_streams_active 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trellis_xds_nacks_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE trellis_xds_push_latency_seconds summary"), std::string::npos);
  EXPECT_NE(text.find("trellis_xds_push_latency_seconds_count 100\n"), std::string::npos);
  // 100 us falls in the bucket below 128 us; 50 ms in the one below 65.536 ms.
  EXPECT_DOUBLE_EQ(m.push_latency.quantileSeconds(0.5), 128e-6);
  EXPECT_DOUBLE_EQ(m.push_latency.quantileSeconds(0.99), 65536e-6);
  EXPECT_NEAR(m.push_latency.sumSeconds(), 98 * 100e-6 + 0.1, 1e-9);
}

TEST(XdsMetricsTest, EmptySummaryIsZero) {
  LatencySummary s;
  EXPECT_EQ(s.quantileSeconds(0.5), 0);
  EXPECT_EQ(s.count(), 0u);
}

}  // namespace
}  // namespace trellis::xds
