#include "filter/coerce.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace trellis::filter::detail {
namespace {

TEST(Coerce, BoolSpellingsFollowStrconv) {
  for (auto s : {"1", "t", "T", "TRUE", "true", "True"}) EXPECT_EQ(parseGoBool(s), true) << s;
  for (auto s : {"0", "f", "F", "FALSE", "false", "False"}) EXPECT_EQ(parseGoBool(s), false) << s;
  for (auto s : {"", "yes", "tRUE", "2", "true "}) EXPECT_FALSE(parseGoBool(s)) << s;
}

TEST(Coerce, IntegersUseBasePrefixes) {
  EXPECT_EQ(parseGoInt("8080"), 8080);
  EXPECT_EQ(parseGoInt("-1"), -1);
  EXPECT_EQ(parseGoInt("+7"), 7);
  EXPECT_EQ(parseGoInt("0"), 0);
  EXPECT_EQ(parseGoInt("0x1F"), 31);
  EXPECT_EQ(parseGoInt("0o17"), 15);
  EXPECT_EQ(parseGoInt("017"), 15);
  EXPECT_EQ(parseGoInt("0b101"), 5);
  EXPECT_EQ(parseGoInt("1_000"), 1000);
  EXPECT_EQ(parseGoInt("0x_1F"), 31);
  EXPECT_EQ(parseGoInt("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parseGoInt("9223372036854775807"), std::numeric_limits<int64_t>::max());
}

TEST(Coerce, IntegersRejectMalformedAndOverflow) {
  for (auto s : {"", "-", "08", "0x", "0o", "1.5", "1e3", "abc", "1__0", "_1", "1_", "--1",
                 "9223372036854775808", "-9223372036854775809", " 1"}) {
    EXPECT_FALSE(parseGoInt(s)) << s;
  }
}

TEST(Coerce, UnsignedRejectsSigns) {
  EXPECT_EQ(parseGoUint("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(parseGoUint("18446744073709551616"));
  EXPECT_FALSE(parseGoUint("-1"));
  EXPECT_FALSE(parseGoUint("+1"));
}

TEST(Coerce, Floats) {
  EXPECT_EQ(parseGoFloat("1.5"), 1.5);
  EXPECT_EQ(parseGoFloat("-2"), -2.0);
  EXPECT_EQ(parseGoFloat("+2.5e2"), 250.0);
  EXPECT_EQ(parseGoFloat("0x1p-2"), 0.25);
  EXPECT_TRUE(std::isinf(*parseGoFloat("Inf")));
  EXPECT_TRUE(std::isnan(*parseGoFloat("NaN")));
  for (auto s : {"", "-", "+-1", "1.5x", "abc", "1e999"}) EXPECT_FALSE(parseGoFloat(s)) << s;
}

}  // namespace
}  // namespace trellis::filter::detail
