#include "agent/definition.h"

#include <gtest/gtest.h>

namespace trellis::agent {
namespace {

model::InJson j(const char* s) { return model::InJson::parse(s); }

TEST(Definition, ServiceDefaultsAndCheckIds) {
  auto d = decodeService(
      j(R"({"name":"web","port":80,"checks":[{"ttl":"10s"},{"http":"http://x","interval":"5s"}]})"),
      "n1");
  ASSERT_TRUE(d.isOk()) << d.status().message();
  EXPECT_EQ(d->service.id(), "web");
  EXPECT_EQ(d->service.weights().passing(), 1);
  ASSERT_EQ(d->checks.size(), 2u);
  EXPECT_EQ(d->checks[0].check.check_id(), "service:web:1");
  EXPECT_EQ(d->checks[0].check.type(), "ttl");
  EXPECT_EQ(d->checks[1].check.check_id(), "service:web:2");
  EXPECT_EQ(d->checks[1].check.name(), "Service 'web' check");
  EXPECT_EQ(d->checks[1].check.status(), "critical");
}

TEST(Definition, SingleCheckIdHasNoSuffix) {
  auto d = decodeService(j(R"({"Name":"api","ID":"api1","Check":{"TTL":"5s"}})"), "n1");
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(d->checks[0].check.check_id(), "service:api1");
}

TEST(Definition, RejectsBadInput) {
  EXPECT_EQ(decodeService(j(R"({"Port":80})"), "n").status().message(), "Missing service name");
  EXPECT_EQ(decodeService(j(R"({"Name":"a","Address":"0.0.0.0"})"), "n").status().message(),
            "Invalid service address");
  EXPECT_FALSE(decodeService(j(R"({"Name":"a","Weights":{"Passing":0}})"), "n").isOk());
  EXPECT_FALSE(decodeService(j(R"({"Name":"a","Check":{"HTTP":"http://x"}})"), "n").isOk());
  EXPECT_FALSE(decodeService(j(R"({"Name":"a","Meta":{"consul-x":"1"}})"), "n").isOk());
  EXPECT_EQ(decodeService(j(R"({"Name":"a","Check":{"TTL":"5s","Status":"ok"}})"), "n")
                .status()
                .message(),
            "Status for checks must 'passing', 'warning', 'critical'");
}

TEST(Definition, CheckRegistrationNeedsName) {
  EXPECT_FALSE(decodeCheck(j(R"({"TTL":"5s"})"), "n").isOk());
  auto c = decodeCheck(j(R"({"Name":"mem","ScriptArgs":["true"],"Interval":"10s"})"), "n");
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->check.check_id(), "mem");
  EXPECT_EQ(c->check.type(), "script");
}

}  // namespace
}  // namespace trellis::agent
