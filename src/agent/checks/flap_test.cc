#include "agent/checks/flap.h"

#include <gtest/gtest.h>

namespace trellis::agent::checks {
namespace {

// Feeds statuses and returns what was reported ("-" for nothing).
std::vector<std::string> feed(FlapDamper& d, const std::vector<std::string>& statuses) {
  std::vector<std::string> out;
  for (const std::string& s : statuses) {
    auto r = d.filter({s, "out-" + s});
    out.push_back(r ? r->status : "-");
    if (r) {
      EXPECT_EQ(r->output, "out-" + s);
    }
  }
  return out;
}

using V = std::vector<std::string>;

TEST(FlapDamperTest, ZeroThresholdsReportEverything) {
  FlapDamper d(0, 0, 0);
  EXPECT_EQ(feed(d, {kPassing, kCritical, kWarning, kCritical}),
            (V{kPassing, kCritical, kWarning, kCritical}));
}

TEST(FlapDamperTest, FirstResultIsAlwaysReported) {
  FlapDamper a(3, 0, 3);
  EXPECT_EQ(feed(a, {kCritical}), V{kCritical});
  FlapDamper b(3, 0, 3);
  EXPECT_EQ(feed(b, {kPassing}), V{kPassing});
}

TEST(FlapDamperTest, SuccessBeforePassing) {
  FlapDamper d(2, 0, 0);
  EXPECT_EQ(feed(d, {kCritical, kPassing, kPassing, kPassing}),
            (V{kCritical, "-", kPassing, kPassing}));
  // A failure resets the success streak.
  EXPECT_EQ(feed(d, {kCritical, kPassing, kCritical, kPassing, kWarning}),
            (V{kCritical, "-", kCritical, "-", kWarning}));
}

TEST(FlapDamperTest, FailuresBeforeCriticalDefaultsWarningThreshold) {
  FlapDamper d(0, 0, 3);
  EXPECT_EQ(feed(d, {kPassing, kCritical, kCritical, kCritical, kCritical}),
            (V{kPassing, "-", "-", kCritical, kCritical}));
  // A success (warning counts as one) resets the failure streak.
  EXPECT_EQ(feed(d, {kWarning, kCritical, kCritical, kPassing, kCritical}),
            (V{kWarning, "-", "-", kPassing, "-"}));
}

TEST(FlapDamperTest, FailuresBeforeWarningReportsWarningFirst) {
  FlapDamper d(0, 1, 3);
  EXPECT_EQ(feed(d, {kPassing}), V{kPassing});
  auto first = d.filter({kCritical, "boom"});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, kWarning);
  EXPECT_EQ(first->output, "boom");
  auto second = d.filter({kCritical, "boom"});
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, kWarning);
  auto third = d.filter({kCritical, "boom"});
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->status, kCritical);
}

}  // namespace
}  // namespace trellis::agent::checks
