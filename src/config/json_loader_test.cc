#include "config/json_loader.h"

#include <gtest/gtest.h>

#include <string>

namespace trellis::config {
namespace {

using nlohmann::json;

TEST(JsonLoaderTest, ParsesValueAndKeyLines) {
  auto r = parseJsonDocument(R"({
  "datacenter": "dc1",
  "ports": {
    "http": 8500,
    "dns": 8600
  },
  "retry_join": [
    "a",
    "b"
  ],
  "services": [
    {
      "name": "web"
    },
    {"name": "db", "port": 1}
  ]
})");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->value["ports"]["dns"], 8600);
  EXPECT_EQ(r->value["services"][1]["name"], "db");
  EXPECT_EQ(r->lineOf("/datacenter"), 2);
  EXPECT_EQ(r->lineOf("/ports"), 3);
  EXPECT_EQ(r->lineOf("/ports/http"), 4);
  EXPECT_EQ(r->lineOf("/ports/dns"), 5);
  EXPECT_EQ(r->lineOf("/retry_join/0"), 8);
  EXPECT_EQ(r->lineOf("/retry_join/1"), 9);
  EXPECT_EQ(r->lineOf("/services/0"), 12);
  EXPECT_EQ(r->lineOf("/services/0/name"), 13);
  EXPECT_EQ(r->lineOf("/services/1"), 15);
  EXPECT_EQ(r->lineOf("/services/1/port"), 15);
}

TEST(JsonLoaderTest, NumbersFollowedByNewlineKeepTheirLine) {
  auto r = parseJsonDocument("{\"a\": [1\n,2\n]}");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->lineOf("/a/0"), 1);
  EXPECT_EQ(r->lineOf("/a/1"), 2);
}

TEST(JsonLoaderTest, DuplicateKeyLastWins) {
  auto r = parseJsonDocument("{\"a\": 1,\n\"a\": 2}");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->value["a"], 2);
  EXPECT_EQ(r->lineOf("/a"), 2);
}

TEST(JsonLoaderTest, ScalarTopLevel) {
  auto r = parseJsonDocument("  true ");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->value, json(true));
}

TEST(JsonLoaderTest, UnicodeEscapes) {
  auto r = parseJsonDocument(R"({"k": "caf\u00e9"})");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->value["k"], "caf\xC3\xA9");
}

TEST(JsonLoaderTest, SyntaxErrorNamesLineAndColumn) {
  auto r = parseJsonDocument("{\n  \"a\": 1,\n  \"b\": 2\n  \"c\": 3\n}");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message().rfind("line 4, column 3: ", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("syntax error"), std::string::npos);
}

TEST(JsonLoaderTest, CommentsAreRejectedLikeGo) {
  EXPECT_FALSE(parseJsonDocument("{ // no\n}").isOk());
}

TEST(JsonLoaderTest, EmptyInputIsAnError) {
  auto r = parseJsonDocument("");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("line 1"), std::string::npos);
}

TEST(JsonLoaderTest, NestingDepthIsBounded) {
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parseJsonDocument(ok).isOk());
  std::string deep = std::string(100000, '[');
  auto r = parseJsonDocument(deep);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("nesting too deep"), std::string::npos);
}

}  // namespace
}  // namespace trellis::config
