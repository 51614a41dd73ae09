#include "dns/answer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace trellis::dns {
namespace {

// One line per record, dig style, for golden comparisons.
std::string render(const Record& r) {
  std::ostringstream o;
  o << nameToString(r.name) << " " << r.ttl << " ";
  struct V {
    std::ostringstream& o;
    void operator()(const RawData& d) { o << "RAW " << d.size(); }
    void operator()(const Ipv4& a) {
      o << "A " << +a[0] << "." << +a[1] << "." << +a[2] << "." << +a[3];
    }
    void operator()(const Ipv6& a) { o << "AAAA .." << +a[15]; }
    void operator()(const SrvData& s) {
      o << "SRV " << s.priority << " " << s.weight << " " << s.port << " "
        << nameToString(s.target);
    }
    void operator()(const TxtData& t) {
      o << "TXT";
      for (const auto& s : t) o << " \"" << s << "\"";
    }
    void operator()(const SoaData& s) {
      o << "SOA " << nameToString(s.mname) << " " << nameToString(s.rname) << " " << s.serial << " "
        << s.refresh << " " << s.retry << " " << s.expire << " " << s.minimum;
    }
    void operator()(const NameData& n) { o << "NAME " << nameToString(n.name); }
  };
  std::visit(V{o}, r.data);
  return o.str();
}

std::vector<std::string> render(const std::vector<Record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(render(r));
  return out;
}

class AnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.datacenter = "dc1";
    addNode("n1", "10.0.0.1", {{"env", "prod"}, {"rfc1035-raw", "v"}});
    addNode("n2", "10.0.0.2");
    addNode("n3", "10.0.0.3");
    addService("n1", "web1", "web", 80, {"v1", "primary"});
    addService("n2", "web2", "web", 81, {"v2"});
    addService("n3", "web3", "web", 82, {"v1"}, "192.168.1.5");
  }

  void addNode(const std::string& name, const std::string& addr,
               std::map<std::string, std::string> meta = {}) {
    pb::Node n;
    n.set_node(name);
    n.set_address(addr);
    for (auto& [k, v] : meta) (*n.mutable_meta())[k] = v;
    ASSERT_TRUE(store_.ensureNode(++idx_, n).isOk());
  }
  void addService(const std::string& node, const std::string& id, const std::string& name, int port,
                  std::vector<std::string> tags = {}, const std::string& addr = "",
                  const std::string& kind = "", const std::string& proxy_destination = "") {
    pb::Service s;
    s.set_node(node);
    s.set_id(id);
    s.set_service(name);
    s.set_port(port);
    s.set_address(addr);
    s.set_kind(kind);
    s.mutable_proxy()->set_destination_service_name(proxy_destination);
    s.mutable_weights()->set_passing(10);
    s.mutable_weights()->set_warning(1);
    for (auto& t : tags) s.add_tags(t);
    ASSERT_TRUE(store_.ensureService(++idx_, s).isOk());
  }
  void addCheck(const std::string& node, const std::string& id, const std::string& status,
                const std::string& service_id = "") {
    pb::Check c;
    c.set_node(node);
    c.set_check_id(id);
    c.set_status(status);
    c.set_service_id(service_id);
    ASSERT_TRUE(store_.ensureCheck(++idx_, c).isOk());
  }

  Message query(const std::string& name, uint16_t qtype, std::optional<uint16_t> edns = {}) {
    Message q;
    q.header.id = 99;
    q.header.rd = true;
    q.questions.push_back({nameFromString(name), qtype, kClassIn});
    if (edns) q.edns = Edns{*edns, 0, 0, false, ""};
    return q;
  }

  Answer ask(const std::string& name, uint16_t qtype) {
    AnswerContext ctx;
    ctx.now_unix = 1700000000;
    return answer(query(name, qtype), store_, cfg_, ctx);
  }

  // Round trip through the wire, as a client would see it.
  Message wire(const std::string& name, uint16_t qtype, Transport t,
               std::optional<uint16_t> edns = {}) {
    AnswerContext ctx;
    ctx.transport = t;
    auto out = answerPacket(encode(query(name, qtype, edns)), store_, cfg_, ctx);
    EXPECT_EQ(out.action, Answer::Action::kReply);
    auto m = parse(out.bytes);
    EXPECT_TRUE(m.isOk());
    return *m;
  }

  state::Store store_;
  DnsConfig cfg_;
  uint64_t idx_ = 0;
};

TEST_F(AnswerTest, ServiceAGolden) {
  auto a = ask("web.service.consul.", type::kA);
  EXPECT_EQ(a.action, Answer::Action::kReply);
  EXPECT_EQ(a.response.header.rcode, rcode::kNoError);
  EXPECT_TRUE(a.response.header.aa);
  EXPECT_TRUE(a.response.header.qr);
  EXPECT_EQ(a.response.header.id, 99);
  EXPECT_FALSE(a.response.header.ra);  // no recursors
  EXPECT_EQ(render(a.response.answers),
            (std::vector<std::string>{"web.service.consul. 0 A 10.0.0.1",
                                      "web.service.consul. 0 A 10.0.0.2",
                                      "web.service.consul. 0 A 192.168.1.5"}));
}

TEST_F(AnswerTest, SrvGoldenWithAdditionalRecords) {
  auto a = ask("web.service.consul", type::kSrv);
  EXPECT_EQ(
      render(a.response.answers),
      (std::vector<std::string>{"web.service.consul. 0 SRV 1 10 80 n1.node.dc1.consul.",
                                "web.service.consul. 0 SRV 1 10 81 n2.node.dc1.consul.",
                                "web.service.consul. 0 SRV 1 10 82 c0a80105.addr.dc1.consul."}));
  EXPECT_EQ(render(a.response.additional),
            (std::vector<std::string>{
                "n1.node.dc1.consul. 0 A 10.0.0.1", "n1.node.dc1.consul. 0 TXT \"env=prod\"",
                "n1.node.dc1.consul. 0 TXT \"v\"", "n2.node.dc1.consul. 0 A 10.0.0.2",
                "c0a80105.addr.dc1.consul. 0 A 192.168.1.5"}));
}

TEST_F(AnswerTest, Rfc2782AndTagForms) {
  auto tagged = ask("v1.web.service.consul", type::kA);
  EXPECT_EQ(tagged.response.answers.size(), 2u);
  auto rfc = ask("_web._v2.service.consul", type::kSrv);
  ASSERT_EQ(rfc.response.answers.size(), 1u);
  EXPECT_EQ(std::get<SrvData>(rfc.response.answers[0].data).port, 81);
  EXPECT_EQ(ask("_web._tcp.service.dc1.consul", type::kSrv).response.answers.size(), 3u);
  // For SRV the "service" label may be left out.
  EXPECT_EQ(ask("_web._tcp.consul", type::kSrv).response.answers.size(), 3u);
  EXPECT_EQ(ask("nope.web.service.consul", type::kA).response.header.rcode, rcode::kNxDomain);
}

TEST_F(AnswerTest, CaseInsensitiveNamesAndTags) {
  auto a = ask("V1.WEB.Service.CONSUL", type::kA);
  EXPECT_EQ(a.response.header.rcode, rcode::kNoError);
  EXPECT_EQ(a.response.answers.size(), 2u);
  EXPECT_EQ(ask("N1.NODE.consul", type::kA).response.answers.size(), 1u);
}

TEST_F(AnswerTest, HealthFilter) {
  addCheck("n1", "svc-crit", "critical", "web1");
  addCheck("n2", "node-warn", "warning");
  auto a = ask("web.service.consul", type::kSrv);
  ASSERT_EQ(a.response.answers.size(), 2u);  // n1 dropped
  for (const auto& r : a.response.answers) {
    const auto& srv = std::get<SrvData>(r.data);
    EXPECT_NE(srv.port, 80);
    if (srv.port == 81) {
      EXPECT_EQ(srv.weight, 1);  // warning weight
    }
  }
  cfg_.only_passing = true;
  EXPECT_EQ(ask("web.service.consul", type::kA).response.answers.size(), 1u);
  addCheck("n3", "maint", "critical");  // maintenance mode is a critical node check
  auto none = ask("web.service.consul", type::kA);
  EXPECT_EQ(none.response.header.rcode, rcode::kNxDomain);
  EXPECT_EQ(render(none.response.authority),
            (std::vector<std::string>{
                "consul. 0 SOA ns.consul. hostmaster.consul. 1700000000 3600 600 86400 0"}));
}

TEST_F(AnswerTest, NxdomainAndOtherDatacenter) {
  for (const char* name : {"nope.service.consul", "web.service.dc2.consul", "nope.node.consul",
                           "x.query.consul", "a.b.c.consul", "zz.addr.consul"}) {
    auto a = ask(name, type::kA);
    EXPECT_EQ(a.response.header.rcode, rcode::kNxDomain) << name;
    ASSERT_EQ(a.response.authority.size(), 1u) << name;
    EXPECT_EQ(a.response.authority[0].type, type::kSoa);
  }
}

TEST_F(AnswerTest, ExistingNameOtherTypeIsEmptyNoError) {
  auto a = ask("web.service.consul", type::kAaaa);
  EXPECT_EQ(a.response.header.rcode, rcode::kNoError);
  EXPECT_TRUE(a.response.answers.empty());
  EXPECT_EQ(a.response.authority.size(), 1u);
}

TEST_F(AnswerTest, OutsideTheDomainIsRefusedOrForwarded) {
  auto a = ask("example.com", type::kA);
  EXPECT_EQ(a.action, Answer::Action::kReply);
  EXPECT_EQ(a.response.header.rcode, rcode::kRefused);
  cfg_.recursors.push_back({"127.0.0.1", 53});
  EXPECT_EQ(ask("example.com", type::kA).action, Answer::Action::kForward);
  EXPECT_TRUE(ask("web.service.consul", type::kA).response.header.ra);
}

TEST_F(AnswerTest, NodeLookupWithTxt) {
  auto a = ask("n1.node.dc1.consul", type::kA);
  EXPECT_EQ(render(a.response.answers),
            (std::vector<std::string>{"n1.node.dc1.consul. 0 A 10.0.0.1"}));
  EXPECT_EQ(a.response.additional.size(), 2u);
  auto txt = ask("n1.node.consul", type::kTxt);
  EXPECT_EQ(render(txt.response.answers),
            (std::vector<std::string>{"n1.node.consul. 0 TXT \"env=prod\"",
                                      "n1.node.consul. 0 TXT \"v\""}));
  cfg_.node_ttl = 30;
  cfg_.enable_additional_node_meta_txt = false;
  auto b = ask("n1.node.consul", type::kA);
  EXPECT_EQ(b.response.answers[0].ttl, 30u);
  EXPECT_TRUE(b.response.additional.empty());
}

TEST_F(AnswerTest, AddrLookup) {
  EXPECT_EQ(render(ask("c0a80105.addr.dc1.consul", type::kA).response.answers),
            (std::vector<std::string>{"c0a80105.addr.dc1.consul. 0 A 192.168.1.5"}));
  auto v6 = ask("fe800000000000000000000000000001.addr.consul", type::kAaaa);
  ASSERT_EQ(v6.response.answers.size(), 1u);
  EXPECT_EQ(std::get<Ipv6>(v6.response.answers[0].data)[0], 0xfe);
}

TEST_F(AnswerTest, ConnectReturnsProxies) {
  addService("n2", "web2-sidecar", "web-sidecar-proxy", 21000, {}, "", "connect-proxy",
             "web");
  addService("n3", "api-sidecar", "api-sidecar-proxy", 21001, {}, "", "connect-proxy",
             "api");
  auto a = ask("web.connect.consul", type::kSrv);
  EXPECT_EQ(render(a.response.answers),
            (std::vector<std::string>{"web.connect.consul. 0 SRV 1 10 21000 n2.node.dc1.consul."}));
  EXPECT_EQ(ask("nope.connect.consul", type::kA).response.header.rcode, rcode::kNxDomain);
  // The proxy is not a "web" instance itself.
  EXPECT_EQ(ask("web.service.consul", type::kA).response.answers.size(), 3u);
}

TEST_F(AnswerTest, AltDomainAnswersInItsOwnDomain) {
  cfg_.alt_domain = {"test", "local"};
  auto a = ask("web.service.test.local", type::kSrv);
  ASSERT_EQ(a.response.answers.size(), 3u);
  EXPECT_EQ(nameToString(std::get<SrvData>(a.response.answers[0].data).target),
            "n1.node.dc1.test.local.");
  cfg_.domain = {"example"};
  EXPECT_EQ(ask("web.service.example", type::kA).response.answers.size(), 3u);
  EXPECT_EQ(ask("web.service.consul", type::kA).response.header.rcode, rcode::kRefused);
}

TEST_F(AnswerTest, TtlsFromServiceTtlPatterns) {
  cfg_.service_ttl = {{"*", 5}, {"we*", 7}, {"web", 9}, {"w*", 6}};
  EXPECT_EQ(serviceTtl(cfg_, "web"), 9u);
  EXPECT_EQ(serviceTtl(cfg_, "west"), 7u);
  EXPECT_EQ(serviceTtl(cfg_, "wa"), 6u);
  EXPECT_EQ(serviceTtl(cfg_, "db"), 5u);
  EXPECT_EQ(ask("web.service.consul", type::kA).response.answers[0].ttl, 9u);
}

TEST_F(AnswerTest, ShuffleUsesTheInjectedRng) {
  for (int i = 4; i <= 12; ++i) {
    addNode("m" + std::to_string(i), "10.1.0." + std::to_string(i));
    addService("m" + std::to_string(i), "web" + std::to_string(i), "web", 80);
  }
  auto order = [&](uint32_t seed) {
    std::mt19937 rng(seed);
    AnswerContext ctx;
    ctx.rng = &rng;
    return render(
        answer(query("web.service.consul", type::kA), store_, cfg_, ctx).response.answers);
  };
  EXPECT_EQ(order(1), order(1));
  EXPECT_NE(order(1), order(2));
  auto sorted = order(3);
  std::sort(sorted.begin(), sorted.end());
  auto plain = render(ask("web.service.consul", type::kA).response.answers);
  std::sort(plain.begin(), plain.end());
  EXPECT_EQ(sorted, plain);
}

class TruncationTest : public AnswerTest {
 protected:
  void SetUp() override {
    AnswerTest::SetUp();
    for (int i = 10; i < 40; ++i) {
      addNode("big-node-with-a-long-name-" + std::to_string(i), "10.2.0." + std::to_string(i));
      addService("big-node-with-a-long-name-" + std::to_string(i), "db" + std::to_string(i), "db",
                 5432);
    }
  }
};

TEST_F(TruncationTest, PlainUdpKeepsUdpAnswerLimitWithoutTc) {
  auto m = wire("db.service.consul", type::kA, Transport::kUdp);
  EXPECT_EQ(m.answers.size(), 3u);
  EXPECT_FALSE(m.header.tc);
  cfg_.enable_truncate = true;
  m = wire("db.service.consul", type::kA, Transport::kUdp);
  EXPECT_EQ(m.answers.size(), 3u);
  EXPECT_TRUE(m.header.tc);
}

TEST_F(TruncationTest, EdnsSizeAndTcpCarryMore) {
  EXPECT_EQ(wire("db.service.consul", type::kA, Transport::kUdp, 4096).answers.size(), 30u);
  EXPECT_EQ(wire("db.service.consul", type::kA, Transport::kTcp).answers.size(), 30u);
  EXPECT_EQ(wire("db.service.consul", type::kSrv, Transport::kTcp).answers.size(), 30u);
}

TEST_F(TruncationTest, SrvOverSmallEdnsIsCutToFitWithMatchingAdditionals) {
  cfg_.enable_truncate = true;
  AnswerContext ctx;
  auto q = query("db.service.consul", type::kSrv, 1000);
  auto out = answerPacket(encode(q), store_, cfg_, ctx);
  EXPECT_LE(out.bytes.size(), 1000u);
  auto m = parse(out.bytes);
  ASSERT_TRUE(m.isOk());
  EXPECT_TRUE(m->header.tc);
  EXPECT_GT(m->answers.size(), 3u);
  EXPECT_LT(m->answers.size(), 30u);
  EXPECT_EQ(m->additional.size(), m->answers.size());  // one A per kept target
}

TEST_F(TruncationTest, ARecordLimitAppliesToEveryTransport) {
  cfg_.a_record_limit = 5;
  EXPECT_EQ(wire("db.service.consul", type::kA, Transport::kTcp).answers.size(), 5u);
  EXPECT_EQ(wire("db.service.consul", type::kA, Transport::kUdp, 4096).answers.size(), 5u);
}

TEST_F(AnswerTest, BadInput) {
  AnswerContext ctx;
  // Runts and responses get no answer at all.
  EXPECT_EQ(answerPacket("abc", store_, cfg_, ctx).action, Answer::Action::kDrop);
  Message resp = query("web.service.consul", type::kA);
  resp.header.qr = true;
  EXPECT_EQ(answerPacket(encode(resp), store_, cfg_, ctx).action, Answer::Action::kDrop);
  // A header followed by garbage: FORMERR with the same ID.
  std::string garbage = encode(query("web.service.consul", type::kA)).substr(0, 15);
  auto bad = parse(answerPacket(garbage, store_, cfg_, ctx).bytes);
  ASSERT_TRUE(bad.isOk());
  EXPECT_EQ(bad->header.rcode, rcode::kFormErr);
  EXPECT_EQ(bad->header.id, 99);
  // Opcodes other than QUERY, non-IN classes, zone transfers: NOTIMP.
  Message status = query("web.service.consul", type::kA);
  status.header.opcode = 2;
  EXPECT_EQ(answer(status, store_, cfg_, ctx).response.header.rcode, rcode::kNotImp);
  Message chaos = query("version.bind", type::kTxt);
  chaos.questions[0].cls = 3;
  EXPECT_EQ(answer(chaos, store_, cfg_, ctx).response.header.rcode, rcode::kNotImp);
  EXPECT_EQ(ask("consul", type::kAxfr).response.header.rcode, rcode::kNotImp);
  // No question, or two: FORMERR.
  Message empty = query("web.service.consul", type::kA);
  empty.questions.clear();
  EXPECT_EQ(answer(empty, store_, cfg_, ctx).response.header.rcode, rcode::kFormErr);
  // EDNS version 1: BADVERS.
  Message v1 = query("web.service.consul", type::kA, 1232);
  v1.edns->version = 1;
  auto badvers = parse(answerPacket(encode(v1), store_, cfg_, ctx).bytes);
  ASSERT_TRUE(badvers.isOk());
  EXPECT_EQ(badvers->header.rcode, rcode::kBadVers);
}

TEST_F(TruncationTest, CacheGivesTheSameAnswersAndFollowsTheStore) {
  AnswerCache cache;
  std::mt19937 rng(5);
  AnswerContext ctx;
  ctx.rng = &rng;
  auto ask = [&](const std::string& name, uint16_t qtype, Transport t, std::optional<uint16_t> edns,
                 AnswerCache* c) {
    ctx.transport = t;
    auto out = answerPacket(encode(query(name, qtype, edns)), store_, cfg_, ctx, c);
    auto m = parse(out.bytes);
    EXPECT_TRUE(m.isOk());
    return *m;
  };
  for (int round = 0; round < 2; ++round) {  // miss, then hit
    for (auto t : {Transport::kUdp, Transport::kTcp}) {
      for (std::optional<uint16_t> edns : {std::optional<uint16_t>{}, std::optional<uint16_t>(700),
                                           std::optional<uint16_t>(4096)}) {
        for (uint16_t qtype : {type::kA, type::kSrv}) {
          Message plain = ask("db.service.consul", qtype, t, edns, nullptr);
          Message cached = ask("DB.service.consul", qtype, t, edns, &cache);
          EXPECT_EQ(plain.answers.size(), cached.answers.size());
          EXPECT_EQ(plain.additional.size(), cached.additional.size());
          EXPECT_EQ(plain.header.tc, cached.header.tc);
          EXPECT_EQ(nameToString(cached.questions[0].name), "DB.service.consul.");
        }
      }
    }
    cfg_.a_record_limit = 4;
  }
  EXPECT_EQ(ask("db.service.consul", type::kA, Transport::kTcp, {}, &cache).answers.size(), 4u);
  // Orders vary from query to query on a hit.
  std::set<std::string> firsts;
  for (int i = 0; i < 20; ++i) {
    firsts.insert(
        render(ask("db.service.consul", type::kSrv, Transport::kTcp, {}, &cache).answers[0]));
  }
  EXPECT_GT(firsts.size(), 3u);
  // A write moves the store's index: the next answer sees it.
  store_.deleteService(++idx_, "big-node-with-a-long-name-10", "db10");
  EXPECT_EQ(ask("db.service.consul", type::kSrv, Transport::kTcp, {}, &cache).answers.size(), 29u);
  EXPECT_EQ(ask("nope.service.consul", type::kA, Transport::kTcp, {}, &cache).header.rcode,
            rcode::kNxDomain);
}

TEST_F(AnswerTest, ReverseLookup) {
  auto a = ask("1.0.0.10.in-addr.arpa", type::kPtr);
  EXPECT_EQ(render(a.response.answers),
            (std::vector<std::string>{"1.0.0.10.in-addr.arpa. 0 NAME n1.node.dc1.consul."}));
  EXPECT_EQ(ask("9.9.9.9.in-addr.arpa", type::kPtr).response.header.rcode, rcode::kNxDomain);
}

TEST_F(AnswerTest, DeregistrationDisappearsAtOnce) {
  store_.deleteService(++idx_, "n1", "web1");
  EXPECT_EQ(ask("web.service.consul", type::kA).response.answers.size(), 2u);
}

}  // namespace
}  // namespace trellis::dns
