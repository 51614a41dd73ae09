#include "common/base64.h"

#include <gtest/gtest.h>

namespace trellis {
namespace {

TEST(Base64, RoundTripsAllLengths) {
  std::string s;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(*base64Decode(base64Encode(s)), s);
    s.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(base64Encode("hello"), "aGVsbG8=");
}

TEST(Base64, RejectsMalformed) {
  EXPECT_FALSE(base64Decode("abc"));
  EXPECT_FALSE(base64Decode("ab=c"));
  EXPECT_FALSE(base64Decode("a!cd"));
}

}  // namespace
}  // namespace trellis
