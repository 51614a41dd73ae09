#include "dns/message.h"

#include <gtest/gtest.h>

namespace trellis::dns {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// Header: id 0x1234, RD, one question.
std::string queryHeader(uint16_t qd = 1, uint16_t an = 0, uint16_t ar = 0) {
  return bytes({0x12, 0x34, 0x01, 0x00, 0, qd, 0, an, 0, 0, 0, ar});
}

TEST(Message, ParsesAQuery) {
  std::string wire =
      queryHeader() + bytes({3, 'W', 'e', 'b', 7,   's', 'e', 'r', 'v', 'i', 'c', 'e',
                             6, 'c', 'o', 'n', 's', 'u', 'l', 0,   0,   1,   0,   1});
  auto m = parse(wire);
  ASSERT_TRUE(m.isOk()) << m.status().message();
  EXPECT_EQ(m->header.id, 0x1234);
  EXPECT_TRUE(m->header.rd);
  EXPECT_FALSE(m->header.qr);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(nameToString(m->questions[0].name), "Web.service.consul.");
  EXPECT_EQ(m->questions[0].type, type::kA);
  EXPECT_FALSE(m->edns);
}

TEST(Message, RoundTripsEveryTypedRecordAndEdns) {
  Message m;
  m.header.id = 7;
  m.header.qr = true;
  m.header.aa = true;
  m.header.rcode = rcode::kNxDomain;
  m.questions.push_back({nameFromString("web.service.consul"), type::kSrv, kClassIn});
  m.answers.push_back({nameFromString("web.service.consul"), type::kSrv, kClassIn, 30,
                       SrvData{1, 5, 8080, nameFromString("n1.node.dc1.consul")}});
  m.answers.push_back({nameFromString("web.service.consul"), type::kCname, kClassIn, 0,
                       NameData{nameFromString("x.example.com")}});
  m.authority.push_back({nameFromString("consul"), type::kSoa, kClassIn, 0,
                         SoaData{nameFromString("ns.consul"), nameFromString("hostmaster.consul"),
                                 42, 3600, 600, 86400, 0}});
  m.additional.push_back(
      {nameFromString("n1.node.dc1.consul"), type::kA, kClassIn, 0, Ipv4{10, 0, 0, 1}});
  m.additional.push_back({nameFromString("n1.node.dc1.consul"), type::kAaaa, kClassIn, 0,
                          Ipv6{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}});
  m.additional.push_back(
      {nameFromString("n1.node.dc1.consul"), type::kTxt, kClassIn, 0, TxtData{"a=b", ""}});
  m.edns = Edns{1232, 0, 0, true, ""};
  std::string wire = encode(m);
  auto back = parse(wire);
  ASSERT_TRUE(back.isOk()) << back.status().message();
  EXPECT_EQ(back->header.rcode, rcode::kNxDomain);
  EXPECT_TRUE(back->header.aa);
  ASSERT_EQ(back->answers.size(), 2u);
  auto srv = std::get<SrvData>(back->answers[0].data);
  EXPECT_EQ(srv.port, 8080);
  EXPECT_EQ(srv.weight, 5);
  EXPECT_EQ(nameToString(srv.target), "n1.node.dc1.consul.");
  EXPECT_EQ(back->answers[0].ttl, 30u);
  EXPECT_EQ(nameToString(std::get<NameData>(back->answers[1].data).name), "x.example.com.");
  auto soa = std::get<SoaData>(back->authority[0].data);
  EXPECT_EQ(nameToString(soa.rname), "hostmaster.consul.");
  EXPECT_EQ(soa.serial, 42u);
  EXPECT_EQ(soa.expire, 86400u);
  ASSERT_EQ(back->additional.size(), 3u);
  EXPECT_EQ(std::get<Ipv4>(back->additional[0].data), (Ipv4{10, 0, 0, 1}));
  EXPECT_EQ(std::get<Ipv6>(back->additional[1].data)[15], 1);
  EXPECT_EQ(std::get<TxtData>(back->additional[2].data), (TxtData{"a=b", ""}));
  ASSERT_TRUE(back->edns);
  EXPECT_EQ(back->edns->udp_size, 1232);
  EXPECT_TRUE(back->edns->dnssec_ok);
}

TEST(Message, CompressesRepeatedNamesButNotSrvTargets) {
  Message m;
  for (int i = 0; i < 5; ++i) {
    m.answers.push_back({nameFromString("web.service.consul"), type::kA, kClassIn, 0,
                         Ipv4{10, 0, 0, static_cast<uint8_t>(i)}});
  }
  // 12 header + first record (20 name + 10 fixed + 4) + 4 * (2 pointer + 10 + 4).
  EXPECT_EQ(encode(m).size(), 12u + 34u + 4u * 16u);
  Message srv;
  srv.answers.push_back({nameFromString("a.consul"), type::kSrv, kClassIn, 0,
                         SrvData{1, 1, 1, nameFromString("a.consul")}});
  std::string wire = encode(srv);
  // The target is written out in full (10 bytes), not as a pointer.
  EXPECT_EQ(wire.size(), 12u + 10u + 10u + 6u + 10u);
}

TEST(Message, OversizedEncodeIsCaseInsensitiveForCompression) {
  Message m;
  m.answers.push_back({nameFromString("WEB.consul"), type::kA, kClassIn, 0, Ipv4{}});
  m.answers.push_back({nameFromString("web.CONSUL"), type::kA, kClassIn, 0, Ipv4{}});
  EXPECT_EQ(encode(m).size(), 12u + (12 + 14) + (2 + 14));
}

TEST(Message, RejectsCompressionLoops) {
  // The question name is a pointer to itself.
  std::string self_loop = queryHeader() + bytes({0xC0, 12, 0, 1, 0, 1});
  EXPECT_FALSE(parse(self_loop).isOk());
  // Two pointers pointing at each other: the second points forward.
  std::string pair = queryHeader(2) + bytes({0xC0, 18, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1});
  EXPECT_FALSE(parse(pair).isOk());
}

TEST(Message, FollowsBackwardPointers) {
  std::string wire = queryHeader(2) + bytes({1, 'a', 0, 0, 1, 0, 1, 1, 'b', 0xC0, 12, 0, 1, 0, 1});
  auto m = parse(wire);
  ASSERT_TRUE(m.isOk()) << m.status().message();
  EXPECT_EQ(nameToString(m->questions[1].name), "b.a.");
}

TEST(Message, RejectsOversizedLabelsAndNames) {
  // Length byte 64 has the 0x40 bit set: an extended label type, not a 64-byte label.
  std::string label64 = queryHeader() + bytes({64}) + std::string(64, 'a') + bytes({0, 0, 1, 0, 1});
  EXPECT_FALSE(parse(label64).isOk());
  std::string name;
  for (int i = 0; i < 5; ++i) name += bytes({60}) + std::string(60, 'a');  // 305 bytes
  EXPECT_FALSE(parse(queryHeader() + name + bytes({0, 0, 1, 0, 1})).isOk());
  std::string ok_name;
  for (int i = 0; i < 4; ++i) ok_name += bytes({62}) + std::string(62, 'a');  // 252 + root
  EXPECT_TRUE(parse(queryHeader() + ok_name + bytes({0, 0, 1, 0, 1})).isOk());
}

TEST(Message, RejectsTruncatedInput) {
  std::string full = queryHeader() + bytes({1, 'a', 0, 0, 1, 0, 1});
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(parse(full.substr(0, n)).isOk()) << n;
  }
  EXPECT_TRUE(parse(full).isOk());
  EXPECT_FALSE(parseHeader(full.substr(0, 11)).isOk());
}

TEST(Message, RejectsCountsLargerThanThePacket) {
  EXPECT_FALSE(parse(bytes({0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})).isOk());
}

TEST(Message, RejectsBadRdataAndDuplicateOpt) {
  // An A record with 3 bytes of RDATA.
  std::string bad_a = queryHeader(0, 1) + bytes({0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3});
  EXPECT_FALSE(parse(bad_a).isOk());
  std::string opt = bytes({0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});
  auto one = parse(queryHeader(0, 0, 1) + opt);
  ASSERT_TRUE(one.isOk()) << one.status().message();
  EXPECT_EQ(one->edns->udp_size, 4096);
  EXPECT_FALSE(parse(queryHeader(0, 0, 2) + opt + opt).isOk());
  // OPT owned by a non-root name.
  EXPECT_FALSE(
      parse(queryHeader(0, 0, 1) + bytes({1, 'a', 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0})).isOk());
}

TEST(Message, ExtendedRcodeTravelsInOpt) {
  Message m;
  m.header.rcode = rcode::kBadVers;
  m.edns = Edns{};
  auto back = parse(encode(m));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->header.rcode, rcode::kBadVers);
}

TEST(Message, NamesCompareCaseInsensitively) {
  EXPECT_TRUE(nameEquals(nameFromString("WeB.Consul."), nameFromString("web.consul")));
  EXPECT_FALSE(nameEquals(nameFromString("web.consul"), nameFromString("web.consul.x")));
  EXPECT_EQ(nameToString({}), ".");
}

}  // namespace
}  // namespace trellis::dns
