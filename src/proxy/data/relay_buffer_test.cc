#include "proxy/data/relay_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace trellis::proxy::data {
namespace {

void put(RelayBuffer& b, const std::string& s) {
  ASSERT_LE(s.size(), b.spaceSize());
  char* p = b.space();
  std::memcpy(p, s.data(), s.size());
  b.commit(s.size());
}

TEST(RelayBuffer, NeverExceedsCapacity) {
  RelayBuffer b(8);
  put(b, "abcdefgh");
  EXPECT_TRUE(b.full());
  EXPECT_EQ(b.spaceSize(), 0u);
  b.consume(3);
  EXPECT_FALSE(b.full());
  // The freed head becomes writable space after compaction; total stays bounded.
  EXPECT_EQ(b.spaceSize(), 3u);
  put(b, "ijk");
  EXPECT_EQ(std::string(b.data(), b.size()), "defghijk");
  EXPECT_EQ(b.size(), b.capacity());
}

TEST(RelayBuffer, ResetsWhenDrained) {
  RelayBuffer b(4);
  put(b, "ab");
  b.consume(2);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.spaceSize(), 4u);
  put(b, "wxyz");
  EXPECT_EQ(std::string(b.data(), b.size()), "wxyz");
}

TEST(RelayBuffer, PartialConsumeKeepsOrder) {
  RelayBuffer b(6);
  put(b, "hello");
  b.consume(1);
  put(b, "!");
  EXPECT_EQ(std::string(b.data(), b.size()), "ello!");
  EXPECT_EQ(b.spaceSize(), 1u);  // tail full, one byte free at the head
  put(b, "?");
  EXPECT_EQ(std::string(b.data(), b.size()), "ello!?");
}

}  // namespace
}  // namespace trellis::proxy::data
