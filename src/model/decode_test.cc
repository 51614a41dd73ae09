#include "model/decode.h"

#include <gtest/gtest.h>

namespace trellis::model {
namespace {

TEST(Fields, MatchesCaseInsensitiveAndSnakeCase) {
  auto v = InJson::parse(R"({"name":"web","destination_service_name":"db","PORT":80})");
  auto f = Fields::of(v, "ServiceDefinition");
  ASSERT_TRUE(f.isOk());
  std::string name, dest;
  int32_t port = 0;
  EXPECT_TRUE(f->str("Name", &name).isOk());
  EXPECT_TRUE(f->str("DestinationServiceName", &dest).isOk());
  EXPECT_TRUE(f->i32("Port", &port).isOk());
  EXPECT_TRUE(f->finish().isOk());
  EXPECT_EQ(name, "web");
  EXPECT_EQ(dest, "db");
  EXPECT_EQ(port, 80);
}

TEST(Fields, RejectsUnknownFieldsAndWrongTypes) {
  auto v = InJson::parse(R"({"Name":"web","Bogus":1,"Port":"80"})");
  auto f = Fields::of(v, "ServiceDefinition");
  std::string name;
  int32_t port = 0;
  EXPECT_TRUE(f->str("Name", &name).isOk());
  Status s = f->i32("Port", &port);
  EXPECT_EQ(s.message(),
            "Request decode failed: json: cannot unmarshal string into Go struct field "
            "ServiceDefinition.Port of type int");
  EXPECT_EQ(f->finish().message(), "Request decode failed: json: unknown field \"Bogus\"");
}

TEST(Fields, DurationsAcceptStringsAndNanos) {
  auto v = InJson::parse(R"({"TTL":"15s","LockDelay":1000,"Bad":"x"})");
  auto f = Fields::of(v, "T");
  std::chrono::nanoseconds a{}, b{}, c{};
  EXPECT_TRUE(f->duration("TTL", &a).isOk());
  EXPECT_TRUE(f->duration("LockDelay", &b).isOk());
  EXPECT_FALSE(f->duration("Bad", &c).isOk());
  EXPECT_EQ(a, std::chrono::seconds(15));
  EXPECT_EQ(b.count(), 1000);
}

}  // namespace
}  // namespace trellis::model
