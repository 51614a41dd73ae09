#include "proxy/xds/bootstrap.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace trellis::proxy::xds {
namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(TRELLIS_CLI_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BootstrapTest, ParsesTheCliDefaults) {
  auto b = parseBootstrap(golden("envoy_bootstrap_defaults.json"));
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->node_id, "web-sidecar-proxy");
  EXPECT_EQ(b->node_cluster, "web");
  EXPECT_EQ(b->node_namespace, "default");
  EXPECT_EQ(b->agent_address, "127.0.0.1");
  EXPECT_EQ(b->agent_port, 8502);
  EXPECT_EQ(b->agentTarget(), "127.0.0.1:8502");
  EXPECT_EQ(b->token, "");
  EXPECT_EQ(b->admin_address, "127.0.0.1");
  EXPECT_EQ(b->admin_port, 19000);
}

TEST(BootstrapTest, ParsesTokenAndAgentAddress) {
  auto b = parseBootstrap(golden("envoy_bootstrap_token_extras.json"));
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->token, "c0ffee00-1111-2222-3333-444455556666");
  EXPECT_EQ(b->agentTarget(), "10.0.0.7:9502");
  EXPECT_EQ(b->admin_address, "0.0.0.0");
  EXPECT_EQ(b->admin_port, 19001);
}

constexpr const char* kMinimal = R"({
  "node": {"id": "db-proxy", "cluster": "db"},
  "static_resources": {"clusters": [{"name": "agent", "load_assignment": {"endpoints": [
    {"lb_endpoints": [{"endpoint": {"address": {"socket_address":
      {"address": "::1", "port_value": "8502"}}}}]}]}}]},
  "dynamic_resources": {"ads_config": {"grpc_services": [
    {"envoy_grpc": {"cluster_name": "agent"}}]}}
})";

TEST(BootstrapTest, AcceptsArraysStringPortsAndIpv6) {
  auto b = parseBootstrap(kMinimal);
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->agentTarget(), "[::1]:8502");
  EXPECT_EQ(b->admin_port, 0);
}

TEST(BootstrapTest, UnixSocketAgent) {
  std::string json = kMinimal;
  auto at = json.find(R"({"socket_address")");
  auto end = json.find("}}}}", at);
  json.replace(at, end + 1 - at, R"({"pipe": {"path": "/run/consul.sock"})");
  auto b = parseBootstrap(json);
  ASSERT_TRUE(b) << b.status().message() << json;
  EXPECT_EQ(b->agentTarget(), "unix:/run/consul.sock");
}

TEST(BootstrapTest, RejectsBadInput) {
  EXPECT_FALSE(parseBootstrap(""));
  EXPECT_FALSE(parseBootstrap("[]"));
  EXPECT_FALSE(parseBootstrap("{\"node\": {}}"));
  EXPECT_EQ(parseBootstrap(std::string(100, '[')).status().message(), "bootstrap nests too deep");
  std::string no_cluster = kMinimal;
  no_cluster.replace(no_cluster.find("\"agent\"}"), 7, "\"other\"");
  auto b = parseBootstrap(no_cluster);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.status().message(), "bootstrap has no address for ADS cluster other");
  std::string bad_port = kMinimal;
  bad_port.replace(bad_port.find("\"8502\""), 6, "70000");
  EXPECT_FALSE(parseBootstrap(bad_port));
}

}  // namespace
}  // namespace trellis::proxy::xds
