#include "ca/spiffe.h"

#include <gtest/gtest.h>

namespace trellis::ca {
namespace {

constexpr char kTd[] = "11111111-2222-3333-4444-555555555555.consul";

struct ParseCase {
  const char* uri;
  bool ok;
  const char* canonical;  // expected formatSpiffeId of the parse, when ok
};

TEST(SpiffeTest, ParseTable) {
  const ParseCase cases[] = {
      {"spiffe://11111111-2222-3333-4444-555555555555.consul", true,
       "spiffe://11111111-2222-3333-4444-555555555555.consul"},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/web", true,
       "spiffe://td.consul/ns/default/dc/dc1/svc/web"},
      {"SPIFFE://TD.Consul/ns/default/dc/dc1/svc/Web", true,
       "spiffe://td.consul/ns/default/dc/dc1/svc/Web"},
      {"spiffe://td.consul/ap/default/ns/default/dc/dc1/svc/web", true,
       "spiffe://td.consul/ns/default/dc/dc1/svc/web"},
      {"spiffe://td.consul/ap/part1/ns/ns1/dc/dc1/svc/web", true,
       "spiffe://td.consul/ap/part1/ns/ns1/dc/dc1/svc/web"},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/my%20svc", true,
       "spiffe://td.consul/ns/default/dc/dc1/svc/my%20svc"},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/we%62", true,
       "spiffe://td.consul/ns/default/dc/dc1/svc/web"},
      {"spiffe://td.consul/agent/client/dc/dc1/id/node-1", true,
       "spiffe://td.consul/agent/client/dc/dc1/id/node-1"},
      {"spiffe://td.consul/agent/server/dc/dc1", true, "spiffe://td.consul/agent/server/dc/dc1"},
      {"spiffe://td.consul/gateway/mesh/dc/dc2", true, "spiffe://td.consul/gateway/mesh/dc/dc2"},
      // Refusals.
      {"", false, nullptr},
      {"spiffe://", false, nullptr},
      {"http://td.consul/ns/default/dc/dc1/svc/web", false, nullptr},
      {"spiffe:/td.consul/ns/default/dc/dc1/svc/web", false, nullptr},
      {"spiffe://td.consul/", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/web/", false, nullptr},
      {"spiffe://td.consul/ns//dc/dc1/svc/web", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/", false, nullptr},
      {"spiffe://td.consul/ns/./dc/dc1/svc/web", false, nullptr},
      {"spiffe://td.consul/ns/../dc/dc1/svc/web", false, nullptr},
      // Regression (found by fuzz/ca_parsers): an escaped dot segment broke the round trip.
      {"spiffe://td.consul/ns/default/dc/dc1/svc/%2e", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/%2E%2e", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/web?x=1", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/web#frag", false, nullptr},
      {"spiffe://td.consul:8443/ns/default/dc/dc1/svc/web", false, nullptr},
      {"spiffe://user@td.consul/ns/default/dc/dc1/svc/web", false, nullptr},
      {"spiffe:///ns/default/dc/dc1/svc/web", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/a%2fb", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/a%00", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/a%0a", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/a%zz", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/a%4", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/a b", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc", false, nullptr},
      {"spiffe://td.consul/ns/default/dc/dc1/svc/web/extra", false, nullptr},
      {"spiffe://td.consul/ns/default/datacenter/dc1/svc/web", false, nullptr},
      {"spiffe://td.consul/agent/client/dc/dc1", false, nullptr},
      {"spiffe://td.consul/ap/p1/agent/server/dc/dc1", false, nullptr},
      {"spiffe://td_consul$/ns/default/dc/dc1/svc/web", false, nullptr},
      {"spiffe://td.cönsul/ns/default/dc/dc1/svc/web", false, nullptr},
  };
  for (const ParseCase& c : cases) {
    auto id = parseSpiffeId(c.uri);
    EXPECT_EQ(id.isOk(), c.ok) << c.uri << ": " << id.status().message();
    if (id.isOk() && c.ok) {
      EXPECT_EQ(formatSpiffeId(*id), c.canonical) << c.uri;
      auto again = parseSpiffeId(formatSpiffeId(*id));
      ASSERT_TRUE(again.isOk()) << c.uri;
      EXPECT_TRUE(*again == *id) << c.uri;
    }
  }
}

TEST(SpiffeTest, ServiceFields) {
  auto id = parseSpiffeId("spiffe://td.consul/ap/p1/ns/team-a/dc/east/svc/api");
  ASSERT_TRUE(id.isOk());
  const auto* svc = std::get_if<ServiceId>(&*id);
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->trust_domain, "td.consul");
  EXPECT_EQ(svc->partition, "p1");
  EXPECT_EQ(svc->ns, "team-a");
  EXPECT_EQ(svc->datacenter, "east");
  EXPECT_EQ(svc->service, "api");
}

TEST(SpiffeTest, AgentFieldsAndSigning) {
  auto agent = parseSpiffeId("spiffe://td.consul/agent/client/dc/dc1/id/n%C3%B6de");
  ASSERT_TRUE(agent.isOk());
  ASSERT_TRUE(std::holds_alternative<AgentId>(*agent));
  EXPECT_EQ(std::get<AgentId>(*agent).agent,
            "n\xC3\xB6"
            "de");
  EXPECT_EQ(formatSpiffeId(*agent), "spiffe://td.consul/agent/client/dc/dc1/id/n%C3%B6de");

  auto signing = parseSpiffeId(std::string("spiffe://") + kTd);
  ASSERT_TRUE(signing.isOk());
  ASSERT_TRUE(std::holds_alternative<SigningId>(*signing));
  EXPECT_EQ(trustDomainOf(*signing), kTd);
}

TEST(SpiffeTest, LengthLimits) {
  std::string long_service(kMaxSegmentLength, 'a');
  EXPECT_TRUE(parseSpiffeId("spiffe://td.consul/ns/default/dc/dc1/svc/" + long_service).isOk());
  EXPECT_FALSE(
      parseSpiffeId("spiffe://td.consul/ns/default/dc/dc1/svc/" + long_service + "a").isOk());
  std::string long_td(kMaxTrustDomainLength + 1, 'a');
  EXPECT_FALSE(parseSpiffeId("spiffe://" + long_td).isOk());
  std::string huge = "spiffe://td.consul/ns/default/dc/dc1/svc/" + std::string(3000, 'a');
  auto r = parseSpiffeId(huge);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "SPIFFE ID is too long");
}

TEST(SpiffeTest, FormatEncodesReservedCharacters) {
  ServiceId svc{"td.consul", "default", "default", "dc1", "a/b c"};
  EXPECT_EQ(formatSpiffeId(svc), "spiffe://td.consul/ns/default/dc/dc1/svc/a%2Fb%20c");
}

TEST(SpiffeTest, ClusterTrustDomain) {
  EXPECT_TRUE(validateClusterTrustDomain(kTd).isOk());
  EXPECT_EQ(trustDomainForCluster("11111111-2222-3333-4444-555555555555"), kTd);
  EXPECT_FALSE(validateClusterTrustDomain("11111111-2222-3333-4444-555555555555").isOk());
  EXPECT_FALSE(validateClusterTrustDomain("td.consul").isOk());
  EXPECT_FALSE(validateClusterTrustDomain("11111111-2222-3333-4444-55555555555.consul").isOk());
  EXPECT_FALSE(validateClusterTrustDomain("11111111-2222-3333-4444-555555555555.example").isOk());
  EXPECT_FALSE(validateClusterTrustDomain("11111111-2222-3333-4444-AAAAAAAAAAAA.consul").isOk());
  EXPECT_FALSE(validateClusterTrustDomain(".consul").isOk());
}

TEST(SpiffeTest, Sni) {
  EXPECT_EQ(serviceSni("web", "", "", "dc1", kTd), std::string("web.default.dc1.internal.") + kTd);
  EXPECT_EQ(serviceSni("web", "v2", "default", "dc2", "td.consul"),
            "v2.web.default.dc2.internal.td.consul");
}

}  // namespace
}  // namespace trellis::ca
