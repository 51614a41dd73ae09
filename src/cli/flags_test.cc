#include "cli/flags.h"

#include <gtest/gtest.h>

#include "cli/url.h"

namespace trellis::cli {
namespace {

struct Fixture {
  FlagSet flags;
  bool detailed = false;
  std::string name;
  uint64_t index = 0;
  int64_t port = 0;
  Nanos timeout{0};
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  Fixture() {
    flags.addBool("detailed", &detailed, "");
    flags.addString("name", &name, "");
    flags.addUint64("modify-index", &index, "");
    flags.addInt("port", &port, "");
    flags.addDuration("timeout", &timeout, "");
    flags.addStringList("tag", &tags, "");
    flags.addMap("meta", &meta, "");
  }
};

TEST(FlagsTest, AcceptsGoFlagSpellings) {
  Fixture f;
  ASSERT_TRUE(
      f.flags.parse({"--detailed", "-name", "web", "--modify-index=0x10", "-port=-1", "-timeout",
                     "1m30s", "-tag=a", "--tag", "b", "-meta", "k=v=w", "key", "-notaflag"}));
  EXPECT_TRUE(f.detailed);
  EXPECT_EQ(f.name, "web");
  EXPECT_EQ(f.index, 16u);
  EXPECT_EQ(f.port, -1);
  EXPECT_EQ(f.timeout, std::chrono::seconds(90));
  EXPECT_EQ(f.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.meta.at("k"), "v=w");
  // Parsing stops at the first positional argument, like Go's flag package.
  EXPECT_EQ(f.flags.args(), (std::vector<std::string>{"key", "-notaflag"}));
  EXPECT_TRUE(f.flags.isSet("name"));
  EXPECT_FALSE(f.flags.isSet("meta-missing"));
}

TEST(FlagsTest, BoolTakesNoSeparateValue) {
  Fixture f;
  ASSERT_TRUE(f.flags.parse({"-detailed", "false"}));
  EXPECT_TRUE(f.detailed);
  EXPECT_EQ(f.flags.args(), std::vector<std::string>{"false"});
  Fixture g;
  ASSERT_TRUE(g.flags.parse({"-detailed=false"}));
  EXPECT_FALSE(g.detailed);
}

TEST(FlagsTest, DoubleDashEndsFlagsAndSingleDashIsPositional) {
  Fixture f;
  ASSERT_TRUE(f.flags.parse({"--", "-detailed"}));
  EXPECT_FALSE(f.detailed);
  EXPECT_EQ(f.flags.args(), std::vector<std::string>{"-detailed"});
  Fixture g;
  ASSERT_TRUE(g.flags.parse({"-", "x"}));
  EXPECT_EQ(g.flags.args(), (std::vector<std::string>{"-", "x"}));
}

TEST(FlagsTest, ErrorsUseGoWording) {
  Fixture f;
  EXPECT_EQ(f.flags.parse({"-bogus"}).message(), "flag provided but not defined: -bogus");
  Fixture g;
  EXPECT_EQ(g.flags.parse({"-name"}).message(), "flag needs an argument: -name");
  Fixture h;
  EXPECT_EQ(h.flags.parse({"-modify-index=abc"}).message(),
            "invalid value \"abc\" for flag -modify-index: parse error");
  Fixture i;
  EXPECT_EQ(i.flags.parse({"-detailed=maybe"}).message(),
            "invalid boolean value \"maybe\" for -detailed: parse error");
  Fixture j;
  EXPECT_FALSE(j.flags.parse({"-meta", "novalue"}));
  Fixture k;
  EXPECT_FALSE(k.flags.parse({"-modify-index=-1"}));
  Fixture l;
  EXPECT_FALSE(l.flags.parse({"-timeout=10"}));  // a bare number is not a Go duration
}

TEST(FlagsTest, HelpIsReported) {
  Fixture f;
  EXPECT_FALSE(f.flags.parse({"-h"}));
  EXPECT_TRUE(f.flags.helpRequested());
  Fixture g;
  EXPECT_FALSE(g.flags.parse({"--help"}));
  EXPECT_TRUE(g.flags.helpRequested());
}

TEST(FlagsTest, ParseGoBool) {
  EXPECT_EQ(parseGoBool("T"), true);
  EXPECT_EQ(parseGoBool("0"), false);
  EXPECT_EQ(parseGoBool("yes"), std::nullopt);
}

TEST(UrlTest, EncodePathKeepsSlashes) {
  EXPECT_EQ(encodePath("foo/bar baz"), "foo/bar%20baz");
  EXPECT_EQ(encodePath("a?b#c%d&e=f+g"), "a%3Fb%23c%25d%26e%3Df%2Bg");
  EXPECT_EQ(encodePath("ünï/x~y-z_.0"), "%C3%BCn%C3%AF/x~y-z_.0");
  EXPECT_EQ(encodeComponent("a/b c"), "a%2Fb%20c");
}

TEST(UrlTest, QueryIsSortedAndBareForEmptyValues) {
  Query q;
  q.add("stale").add("flags", "42").add("cas", "7").add("tag", "b").add("tag", "a&b");
  EXPECT_EQ(q.encode(), "cas=7&flags=42&stale&tag=b&tag=a%26b");
  EXPECT_EQ(buildTarget("/v1/kv/x", q), "/v1/kv/x?cas=7&flags=42&stale&tag=b&tag=a%26b");
  EXPECT_EQ(buildTarget("/v1/kv/x", Query()), "/v1/kv/x");
}

}  // namespace
}  // namespace trellis::cli
