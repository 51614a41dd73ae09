#include "proxy/data/mux_frame.h"

#include <string>

#include <gtest/gtest.h>

namespace trellis::proxy::data {
namespace {

std::string dataFrame(uint32_t stream, const std::string& payload) {
  std::string out(kMuxHeaderBytes, '\0');
  encodeMuxHeader(out.data(), MuxType::kData, stream, static_cast<uint32_t>(payload.size()));
  return out + payload;
}

TEST(MuxFrame, DataRoundTripsAndNeedsTheWholeFrame) {
  const std::string wire = dataFrame(7, "hello");
  ASSERT_EQ(wire.size(), kMuxHeaderBytes + 5);
  EXPECT_EQ(wire.substr(0, 8), std::string("\0\0\0\x07\0\0\0\x05", 8));
  MuxFrame f;
  size_t consumed = 99;
  std::string error;
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    EXPECT_EQ(parseMuxFrame(std::string_view(wire).substr(0, cut), f, consumed, error),
              MuxParse::kNeedMore)
        << cut;
    EXPECT_EQ(consumed, 0u);
  }
  const std::string longer = wire + "trailing";
  ASSERT_EQ(parseMuxFrame(longer, f, consumed, error), MuxParse::kFrame);
  EXPECT_EQ(f.type, MuxType::kData);
  EXPECT_EQ(f.stream, 7u);
  EXPECT_EQ(f.payload, "hello");
  EXPECT_EQ(consumed, wire.size());
}

TEST(MuxFrame, ControlFrames) {
  std::string wire;
  appendMuxControl(wire, MuxType::kOpen, 1);
  appendMuxControl(wire, MuxType::kWindow, 1, 65536);
  appendMuxControl(wire, MuxType::kFin, 1);
  appendMuxControl(wire, MuxType::kReset, 3);
  appendMuxControl(wire, MuxType::kGoAway, 0);
  std::string_view rest = wire;
  std::string error;
  const MuxType expected[] = {MuxType::kOpen, MuxType::kWindow, MuxType::kFin, MuxType::kReset,
                              MuxType::kGoAway};
  for (MuxType t : expected) {
    MuxFrame f;
    size_t consumed = 0;
    ASSERT_EQ(parseMuxFrame(rest, f, consumed, error), MuxParse::kFrame) << error;
    EXPECT_EQ(f.type, t);
    if (t == MuxType::kWindow) {
      EXPECT_EQ(f.increment, 65536u);
    }
    rest.remove_prefix(consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(MuxFrame, RejectsMalformedFrames) {
  auto parse = [](const std::string& wire) {
    MuxFrame f;
    size_t consumed = 0;
    std::string error;
    const MuxParse p = parseMuxFrame(wire, f, consumed, error);
    if (p == MuxParse::kError) {
      EXPECT_FALSE(error.empty());
    }
    return p;
  };
  std::string h(kMuxHeaderBytes, '\0');
  encodeMuxHeader(h.data(), MuxType::kData, 1, 0);
  EXPECT_EQ(parse(h), MuxParse::kError);  // empty DATA
  encodeMuxHeader(h.data(), MuxType::kData, 1, kMuxMaxPayload + 1);
  EXPECT_EQ(parse(h), MuxParse::kError);  // rejected from the header alone
  encodeMuxHeader(h.data(), MuxType::kOpen, 1, 3);
  EXPECT_EQ(parse(h + "abc"), MuxParse::kError);  // control frame with a payload
  encodeMuxHeader(h.data(), MuxType::kGoAway, 5, 0);
  EXPECT_EQ(parse(h), MuxParse::kError);  // GOAWAY names no stream
  encodeMuxHeader(h.data(), MuxType::kFin, 0, 0);
  EXPECT_EQ(parse(h), MuxParse::kError);  // stream frames need one
  std::string w;
  appendMuxControl(w, MuxType::kWindow, 1, 0);
  EXPECT_EQ(parse(w), MuxParse::kError);  // zero increment
  h[4] = 9;
  EXPECT_EQ(parse(h), MuxParse::kError);  // unknown type
}

}  // namespace
}  // namespace trellis::proxy::data
