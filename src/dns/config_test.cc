#include "dns/config.h"

#include <gtest/gtest.h>

namespace trellis::dns {
namespace {

config::AgentConfig agentConfig(const char* merged) {
  config::AgentConfig c;
  c.datacenter = "east";
  c.domain = "Example.";
  c.merged = nlohmann::json::parse(merged);
  return c;
}

TEST(DnsConfig, Defaults) {
  auto c = dnsConfigFrom(agentConfig("{}"));
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->datacenter, "east");
  EXPECT_EQ(c->domain, (Name{"example"}));
  EXPECT_TRUE(c->alt_domain.empty());
  EXPECT_EQ(c->udp_answer_limit, 3u);
  EXPECT_FALSE(c->enable_truncate);
  EXPECT_TRUE(c->recursors.empty());
}

TEST(DnsConfig, ReadsEveryKey) {
  auto c = dnsConfigFrom(agentConfig(R"({
    "alt_domain": "alt.local", "recursors": ["127.0.0.1:5353", "8.8.8.8", "[::1]:54"],
    "dns_config": {"only_passing": true, "enable_truncate": true, "node_ttl": "1m",
      "service_ttl": {"*": "5s", "web": "10s"}, "a_record_limit": 4, "udp_answer_limit": 2,
      "enable_additional_node_meta_txt": false, "recursor_strategy": "random",
      "recursor_timeout": "500ms", "soa": {"refresh": 1, "min_ttl": 9}}})"));
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_EQ(c->alt_domain, (Name{"alt", "local"}));
  ASSERT_EQ(c->recursors.size(), 3u);
  EXPECT_EQ(c->recursors[0].port, 5353);
  EXPECT_EQ(c->recursors[1].port, 53);
  EXPECT_EQ(c->recursors[2].address, "::1");
  EXPECT_TRUE(c->only_passing);
  EXPECT_TRUE(c->enable_truncate);
  EXPECT_EQ(c->node_ttl, 60u);
  EXPECT_EQ(serviceTtl(*c, "web"), 10u);
  EXPECT_EQ(serviceTtl(*c, "db"), 5u);
  EXPECT_EQ(c->a_record_limit, 4u);
  EXPECT_EQ(c->udp_answer_limit, 2u);
  EXPECT_FALSE(c->enable_additional_node_meta_txt);
  EXPECT_TRUE(c->recursor_random);
  EXPECT_EQ(c->recursor_timeout.count(), 500);
  EXPECT_EQ(c->soa.refresh, 1u);
  EXPECT_EQ(c->soa.min_ttl, 9u);
  EXPECT_EQ(c->soa.retry, 600u);
}

TEST(DnsConfig, RejectsBadValues) {
  EXPECT_FALSE(dnsConfigFrom(agentConfig(R"({"recursors": ["dns.google"]})")).isOk());
  EXPECT_FALSE(dnsConfigFrom(agentConfig(R"({"recursors": ["1.2.3.4:99999"]})")).isOk());
  EXPECT_FALSE(
      dnsConfigFrom(agentConfig(R"({"dns_config": {"recursor_strategy": "fast"}})")).isOk());
  EXPECT_FALSE(dnsConfigFrom(agentConfig(R"({"dns_config": {"node_ttl": "soon"}})")).isOk());
}

}  // namespace
}  // namespace trellis::dns
