#include "config/normalize.h"

#include <gtest/gtest.h>

#include "config/hcl.h"
#include "config/json_loader.h"

namespace trellis::config {
namespace {

using nlohmann::json;

struct Outcome {
  Status status;
  json value;
  std::vector<std::string> warnings;
};

Outcome normalizeHcl(const std::string& text, const std::string& source = "a.hcl") {
  auto doc = parseHcl(text);
  EXPECT_TRUE(doc.isOk()) << doc.status().message();
  Outcome o;
  auto r = normalizeSource(doc.value(), source, o.warnings);
  if (r.isOk()) {
    o.value = r.value();
  } else {
    o.status = r.status();
  }
  return o;
}

TEST(NormalizeTest, UnknownKeyNamesFileLineAndDottedKey) {
  auto o = normalizeHcl("datacenter = \"dc1\"\nports {\n  htp = 1\n}\n");
  EXPECT_EQ(o.status.message(), "a.hcl:3: unknown config key \"ports.htp\"");
  o = normalizeHcl("\n\nbogus = true\n");
  EXPECT_EQ(o.status.message(), "a.hcl:3: unknown config key \"bogus\"");
}

TEST(NormalizeTest, WrongTypesAndRanges) {
  EXPECT_EQ(normalizeHcl("ports {\n http = \"8500\"\n}").status.message(),
            "a.hcl:2: invalid value for \"ports.http\": expected an integer, got a string");
  EXPECT_EQ(normalizeHcl("ports { grpc = 70000 }").status.message(),
            "a.hcl:1: invalid value for \"ports.grpc\": port must be between -1 and 65535, "
            "got 70000");
  EXPECT_EQ(normalizeHcl("ports { dns = -2 }").status.message(),
            "a.hcl:1: invalid value for \"ports.dns\": port must be between -1 and 65535, got -2");
  EXPECT_EQ(normalizeHcl("default_query_time = \"5 minutes\"").status.message(),
            "a.hcl:1: invalid value for \"default_query_time\": invalid duration \"5 minutes\"");
  EXPECT_EQ(normalizeHcl("x = 1\nlog_level = \"loud\"").status.message(),
            "a.hcl:2: invalid value for \"log_level\": log level must be one of trace, debug, "
            "info, warn, err; got \"loud\"");
  EXPECT_EQ(normalizeHcl("server = \"yes\"").status.message(),
            "a.hcl:1: invalid value for \"server\": expected a boolean, got a string");
  EXPECT_EQ(normalizeHcl("retry_join = \"a\"").status.message(),
            "a.hcl:1: invalid value for \"retry_join\": expected a list of strings, got a string");
  EXPECT_EQ(normalizeHcl("node_meta { a = 1 }").status.message(),
            "a.hcl:1: invalid value for \"node_meta.a\": expected a string, got an integer");
  EXPECT_EQ(normalizeHcl("acl { default_policy = \"maybe\" }").status.message(),
            "a.hcl:1: invalid value for \"acl.default_policy\": must be \"allow\" or \"deny\", "
            "got \"maybe\"");
  EXPECT_EQ(normalizeHcl("bind_addr = \"{{ GetPrivateIP }}\"").status.message(),
            "a.hcl:1: invalid value for \"bind_addr\": go-sockaddr templates are not supported "
            "yet; give an IP address");
  EXPECT_EQ(normalizeHcl("node_id = \"abc\"").status.message(),
            "a.hcl:1: invalid value for \"node_id\": node_id must be a UUID like 8-4-4-4-12 hex "
            "digits, got \"abc\"");
  EXPECT_FALSE(normalizeHcl("ports = 5").status.isOk());
  EXPECT_FALSE(normalizeHcl("ports { http = 8500.5 }").status.isOk());
  EXPECT_FALSE(normalizeHcl("datacenter = \"dc 1\"").status.isOk());
  EXPECT_FALSE(normalizeHcl("client_addr = \"0.0.0.0 nonsense\"").status.isOk());
}

TEST(NormalizeTest, WrongTypeInsideRepeatedBlockNamesItsLine) {
  auto o = normalizeHcl("ports {\n  http = 1\n}\nports {\n  dns = true\n}\n");
  EXPECT_EQ(o.status.message(),
            "a.hcl:5: invalid value for \"ports.dns\": expected an integer, got a boolean");
}

TEST(NormalizeTest, IntegralFloatIsAnInteger) {
  auto doc = parseJsonDocument(R"({"ports": {"http": 8500.0}})");
  ASSERT_TRUE(doc.isOk());
  std::vector<std::string> w;
  auto r = normalizeSource(doc.value(), "a.json", w);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_TRUE(r.value()["ports"]["http"].is_number_integer());
  EXPECT_EQ(r.value()["ports"]["http"], 8500);
}

TEST(NormalizeTest, UnimplementedKeysWarnOncePerKeyWithLine) {
  auto o = normalizeHcl(
      "performance {\n  raft_multiplier = 1\n}\ndisable_update_check = true\n"
      "connect {\n  enabled = true\n  ca_config {\n    leaf_cert_ttl = \"72h\"\n  }\n}\n"
      "segments = [{ name = \"s1\", port = 1 }]\n");
  ASSERT_TRUE(o.status.isOk()) << o.status.message();
  std::vector<std::string> want = {
      "a.hcl:2: config key \"performance.raft_multiplier\" is accepted but not implemented yet; "
      "ignored",
      "a.hcl:4: config key \"disable_update_check\" is accepted but not implemented yet; ignored",
      "a.hcl:11: config key \"segments\" is accepted but not implemented yet; ignored",
  };
  EXPECT_EQ(o.warnings, want);
  EXPECT_EQ(o.value["connect"]["ca_config"]["leaf_cert_ttl"], "72h");
}

TEST(NormalizeTest, ImplementedKeysDoNotWarn) {
  auto o = normalizeHcl("ports { http = 1 }\nconnect { enabled = false }\nlog_level = \"debug\"\n");
  ASSERT_TRUE(o.status.isOk());
  EXPECT_TRUE(o.warnings.empty());
}

TEST(NormalizeTest, KeysMatchCaseInsensitivelyLikeConsul) {
  auto o = normalizeHcl("Datacenter = \"dc2\"\nPORTS { HTTP = 1 }\n");
  ASSERT_TRUE(o.status.isOk()) << o.status.message();
  EXPECT_EQ(o.value["datacenter"], "dc2");
  EXPECT_EQ(o.value["ports"]["http"], 1);
}

TEST(NormalizeTest, ServiceAndServicesFoldIntoServices) {
  auto o = normalizeHcl(R"(
services = [{ name = "c" }]
service { name = "a" }
service { name = "b" }
check { id = "x", ttl = "10s" }
)");
  ASSERT_TRUE(o.status.isOk()) << o.status.message();
  ASSERT_EQ(o.value["services"].size(), 3u);
  EXPECT_EQ(o.value["services"][0]["name"], "a");
  EXPECT_EQ(o.value["services"][2]["name"], "c");
  EXPECT_FALSE(o.value.contains("service"));
  ASSERT_EQ(o.value["checks"].size(), 1u);
  EXPECT_EQ(o.value["checks"][0]["ttl"], "10s");
}

TEST(NormalizeTest, DefinitionsMustBeObjects) {
  EXPECT_EQ(normalizeHcl("services = [\"web\"]").status.message(),
            "a.hcl:1: invalid value for \"services\": expected an object or a list of objects, "
            "got a string");
  EXPECT_FALSE(normalizeHcl("config_entries { bootstrap = 1 }").status.isOk());
}

TEST(NormalizeTest, DefinitionsAreNotValidatedDeeply) {
  auto o = normalizeHcl("service {\n  Name = \"web\"\n  anything_goes = [1, {x = 2}]\n}\n");
  ASSERT_TRUE(o.status.isOk());
  EXPECT_EQ(o.value["services"][0]["Name"], "web");
}

TEST(NormalizeTest, TopLevelMustBeObject) {
  auto doc = parseJsonDocument("[1]");
  ASSERT_TRUE(doc.isOk());
  std::vector<std::string> w;
  auto r = normalizeSource(doc.value(), "x.json", w);
  EXPECT_EQ(r.status().message(), "x.json: config must be an object at the top level");
}

TEST(NormalizeTest, MergeFollowsConsulRules) {
  json a = {{"datacenter", "one"},
            {"ports", {{"http", 1}, {"dns", 2}}},
            {"retry_join", {"x"}},
            {"node_meta", {{"k1", "v1"}, {"k2", "v2"}}},
            {"services", {{{"name", "a"}}}}};
  json b = {{"datacenter", "two"},
            {"ports", {{"http", 3}}},
            {"retry_join", {"y"}},
            {"node_meta", {{"k3", "v3"}}},
            {"services", {{{"name", "b"}}}}};
  json merged = json::object();
  mergeSources(merged, a);
  mergeSources(merged, b);
  EXPECT_EQ(merged["datacenter"], "two");
  EXPECT_EQ(merged["ports"], json({{"http", 3}, {"dns", 2}}));
  EXPECT_EQ(merged["retry_join"], json({"x", "y"}));
  EXPECT_EQ(merged["node_meta"], json({{"k3", "v3"}}));
  ASSERT_EQ(merged["services"].size(), 2u);
  EXPECT_EQ(merged["services"][1]["name"], "b");
}

}  // namespace
}  // namespace trellis::config
