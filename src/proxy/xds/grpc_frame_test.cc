#include "proxy/xds/grpc_frame.h"

#include <gtest/gtest.h>

#include "proxy/xds/grpc_call.h"

namespace trellis::proxy::xds {
namespace {

std::string prefix(uint8_t flag, uint32_t length) {
  std::string p = encodeGrpcFrame("");
  p[0] = static_cast<char>(flag);
  p[1] = static_cast<char>(length >> 24);
  p[2] = static_cast<char>(length >> 16);
  p[3] = static_cast<char>(length >> 8);
  p[4] = static_cast<char>(length);
  return p;
}

TEST(GrpcFrameTest, ReassemblesMessagesSplitAnywhere) {
  const std::string a(300, 'a');
  const std::string wire = encodeGrpcFrame(a) + encodeGrpcFrame("") + encodeGrpcFrame("xyz");
  ASSERT_EQ(wire.size(), 5 + 300 + 5 + 5 + 3);
  for (size_t cut1 = 0; cut1 <= wire.size(); cut1 += 7) {
    for (size_t cut2 = cut1; cut2 <= wire.size(); cut2 += 13) {
      GrpcFrameReader reader(1024);
      std::vector<std::string> out;
      ASSERT_TRUE(reader.feed(std::string_view(wire).substr(0, cut1), out));
      ASSERT_TRUE(reader.feed(std::string_view(wire).substr(cut1, cut2 - cut1), out));
      ASSERT_TRUE(reader.feed(std::string_view(wire).substr(cut2), out));
      ASSERT_EQ(out, (std::vector<std::string>{a, "", "xyz"})) << cut1 << " " << cut2;
      EXPECT_EQ(reader.pending(), 0u);
    }
  }
}

TEST(GrpcFrameTest, CountsWhatAnUnfinishedMessageHolds) {
  GrpcFrameReader reader(1024);
  std::vector<std::string> out;
  ASSERT_TRUE(reader.feed(prefix(0, 100).substr(0, 3), out));
  EXPECT_EQ(reader.pending(), 3u);
  EXPECT_EQ(reader.expected(), 0u);
  ASSERT_TRUE(reader.feed(prefix(0, 100).substr(3) + "0123456789", out));
  EXPECT_EQ(reader.pending(), 15u);
  EXPECT_EQ(reader.expected(), 100u);
  EXPECT_TRUE(out.empty());
}

TEST(GrpcFrameTest, RefusesAnOversizedMessageFromItsPrefix) {
  GrpcFrameReader reader(1024);
  std::vector<std::string> out;
  ASSERT_TRUE(reader.feed(encodeGrpcFrame(std::string(1024, 'x')), out));
  Status s = reader.feed(prefix(0, 1025), out);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_NE(s.message().find("1025"), std::string::npos);
  EXPECT_EQ(reader.feed(encodeGrpcFrame("ok"), out).code(), Code::kTooLarge);  // sticky
  EXPECT_EQ(out.size(), 1u);
}

TEST(GrpcFrameTest, RefusesCompressedAndUnknownFlags) {
  std::vector<std::string> out;
  GrpcFrameReader compressed(1024);
  EXPECT_EQ(compressed.feed(prefix(1, 2) + "ab", out).code(), Code::kInvalidArgument);
  GrpcFrameReader unknown(1024);
  EXPECT_EQ(unknown.feed(prefix(0x80, 0), out).code(), Code::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

TEST(GrpcTargetTest, ParsesTheTargetsBootstrapsAndFlagsGive) {
  auto v4 = parseGrpcTarget("127.0.0.1:8502");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8502);
  EXPECT_EQ(v4->authority, "127.0.0.1:8502");
  auto v6 = parseGrpcTarget("[::1]:8502");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->authority, "[::1]:8502");
  auto dns = parseGrpcTarget("dns:///localhost:8502");
  ASSERT_TRUE(dns);
  EXPECT_EQ(dns->host, "localhost");
  auto unix_socket = parseGrpcTarget("unix:/run/consul/xds.sock");
  ASSERT_TRUE(unix_socket);
  EXPECT_EQ(unix_socket->unix_path, "/run/consul/xds.sock");
  EXPECT_EQ(parseGrpcTarget("unix:///run/x.sock")->unix_path, "/run/x.sock");
  for (const char* bad : {"", "8502", ":8502", "host:", "host:0", "host:65536", "host:85x",
                          "::1:8502", "[::1:8502", "unix:"}) {
    EXPECT_FALSE(parseGrpcTarget(bad)) << bad;
  }
}

}  // namespace
}  // namespace trellis::proxy::xds
