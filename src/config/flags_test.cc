#include "config/flags.h"

#include <gtest/gtest.h>

namespace trellis::config {
namespace {

using nlohmann::json;

AgentFlags parseOk(const std::vector<std::string>& args) {
  auto r = parseAgentFlags(args);
  EXPECT_TRUE(r.isOk()) << r.status().message();
  return r.isOk() ? r.value() : AgentFlags{};
}

TEST(FlagsTest, BooleanStyles) {
  EXPECT_TRUE(parseOk({"-dev"}).dev);
  EXPECT_TRUE(parseOk({"--dev"}).dev);
  EXPECT_TRUE(parseOk({"-dev=true"}).dev);
  EXPECT_FALSE(parseOk({"-dev", "-dev=false"}).dev);
  EXPECT_EQ(parseOk({"-server"}).overrides["server"], true);
  EXPECT_EQ(parseOk({"--server=false"}).overrides["server"], false);
}

TEST(FlagsTest, BareBooleanDoesNotTakeNextArgument) {
  auto r = parseAgentFlags({"-dev", "false"});
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "unexpected argument: false");
}

TEST(FlagsTest, ValueStyles) {
  EXPECT_EQ(parseOk({"-node=n1"}).overrides["node_name"], "n1");
  EXPECT_EQ(parseOk({"-node", "n2"}).overrides["node_name"], "n2");
  EXPECT_EQ(parseOk({"--node", "n3"}).overrides["node_name"], "n3");
  EXPECT_EQ(parseOk({"--node=n4"}).overrides["node_name"], "n4");
  EXPECT_EQ(parseOk({"-node="}).overrides["node_name"], "");
}

TEST(FlagsTest, FlagsMapOntoConfigKeys) {
  auto f = parseOk({"-http-port",  "18500",       "-grpc-port=8502",
                    "-bind",       "127.0.0.1",   "-client",
                    "0.0.0.0",     "-datacenter", "east",
                    "-data-dir",   "/d",          "-log-level",
                    "trace",       "-retry-join", "a",
                    "-retry-join", "b",           "-node-meta",
                    "rack:r1",     "-ui",         "-bootstrap-expect",
                    "3",           "-encrypt",    "k",
                    "-domain",     "mesh"});
  EXPECT_EQ(f.overrides["ports"]["http"], 18500);
  EXPECT_EQ(f.overrides["ports"]["grpc"], 8502);
  EXPECT_EQ(f.overrides["bind_addr"], "127.0.0.1");
  EXPECT_EQ(f.overrides["client_addr"], "0.0.0.0");
  EXPECT_EQ(f.overrides["datacenter"], "east");
  EXPECT_EQ(f.overrides["data_dir"], "/d");
  EXPECT_EQ(f.overrides["log_level"], "trace");
  EXPECT_EQ(f.overrides["retry_join"], json({"a", "b"}));
  EXPECT_EQ(f.overrides["node_meta"]["rack"], "r1");
  EXPECT_EQ(f.overrides["ui_config"]["enabled"], true);
  EXPECT_EQ(f.overrides["bootstrap_expect"], 3);
  EXPECT_EQ(f.overrides["encrypt"], "k");
  EXPECT_EQ(f.overrides["domain"], "mesh");
}

TEST(FlagsTest, ConfigPathsKeepTheirOrder) {
  auto f = parseOk({"-config-file", "a.hcl", "-config-dir=d", "--config-file=b.json", "-hcl",
                    "x = 1", "-hcl=y = 2", "-config-format", "hcl"});
  ASSERT_EQ(f.config_paths.size(), 3u);
  EXPECT_EQ(f.config_paths[0].path, "a.hcl");
  EXPECT_TRUE(f.config_paths[0].explicit_file);
  EXPECT_EQ(f.config_paths[1].path, "d");
  EXPECT_FALSE(f.config_paths[1].explicit_file);
  EXPECT_EQ(f.config_paths[2].path, "b.json");
  EXPECT_EQ(f.hcl_snippets, (std::vector<std::string>{"x = 1", "y = 2"}));
  EXPECT_EQ(f.config_format, "hcl");
}

TEST(FlagsTest, Errors) {
  EXPECT_EQ(parseAgentFlags({"-x"}).status().message(), "unknown flag: -x");
  EXPECT_EQ(parseAgentFlags({"--nope=1"}).status().message(), "unknown flag: -nope");
  EXPECT_EQ(parseAgentFlags({"-node"}).status().message(), "flag needs an argument: -node");
  EXPECT_EQ(parseAgentFlags({"-http-port", "web"}).status().message(),
            "invalid value \"web\" for flag -http-port: expected an integer");
  EXPECT_EQ(parseAgentFlags({"-dev=maybe"}).status().message(),
            "invalid value \"maybe\" for flag -dev: expected true or false");
  EXPECT_EQ(parseAgentFlags({"-config-format", "yaml"}).status().message(),
            "invalid value \"yaml\" for flag -config-format: must be \"json\" or \"hcl\"");
  EXPECT_EQ(parseAgentFlags({"-node-meta", "novalue"}).status().message(),
            "invalid value \"novalue\" for flag -node-meta: expected key:value");
  EXPECT_EQ(parseAgentFlags({"stray"}).status().message(), "unexpected argument: stray");
  EXPECT_EQ(parseAgentFlags({"---dev"}).status().message(), "unknown flag: --dev");
}

}  // namespace
}  // namespace trellis::config
