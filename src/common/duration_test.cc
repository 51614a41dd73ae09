#include "common/duration.h"

#include <gtest/gtest.h>

namespace trellis {
namespace {

TEST(Duration, ParsesGoForms) {
  EXPECT_EQ(parseGoDuration("10s")->count(), 10'000'000'000);
  EXPECT_EQ(parseGoDuration("1m30s")->count(), 90'000'000'000);
  EXPECT_EQ(parseGoDuration("250ms")->count(), 250'000'000);
  EXPECT_EQ(parseGoDuration("1.5h")->count(), 5400'000'000'000);
  EXPECT_EQ(parseGoDuration("0")->count(), 0);
  EXPECT_FALSE(parseGoDuration("10"));
  EXPECT_FALSE(parseGoDuration("s"));
  EXPECT_FALSE(parseGoDuration(""));
  EXPECT_FALSE(parseGoDuration("10x"));
}

TEST(Duration, FormatsLikeGo) {
  EXPECT_EQ(formatGoDuration(Nanos(0)), "0s");
  EXPECT_EQ(formatGoDuration(std::chrono::seconds(10)), "10s");
  EXPECT_EQ(formatGoDuration(std::chrono::seconds(90)), "1m30s");
  EXPECT_EQ(formatGoDuration(std::chrono::hours(72)), "72h0m0s");
  EXPECT_EQ(formatGoDuration(std::chrono::milliseconds(250)), "250ms");
  EXPECT_EQ(formatGoDuration(std::chrono::milliseconds(1500)), "1.5s");
}

}  // namespace
}  // namespace trellis
