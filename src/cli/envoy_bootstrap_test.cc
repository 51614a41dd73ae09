// Golden tests of the Envoy bootstrap. Regenerate after an intended change with
//   TRELLIS_UPDATE_GOLDEN=1 ./build/src/cli/cli_test --gtest_filter='EnvoyBootstrap*'
// and review the diff of src/cli/testdata/.
#include "cli/envoy_bootstrap.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace trellis::cli {
namespace {

using OJson = nlohmann::ordered_json;

void expectGolden(const OJson& actual, const std::string& name) {
  std::string path = std::string(TRELLIS_CLI_TESTDATA) + "/" + name;
  std::string text = actual.dump(2) + "\n";
  if (const char* update = std::getenv("TRELLIS_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path) << text;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str()) << "golden mismatch: " << path;
}

EnvoyBootstrapInput sidecar() {
  EnvoyBootstrapInput in;
  in.proxyId = "web-sidecar-proxy";
  in.cluster = "web";
  in.agentPort = 8502;
  return in;
}

TEST(EnvoyBootstrapTest, SidecarDefaultsMatchGolden) {
  auto out = buildEnvoyBootstrap(sidecar());
  ASSERT_TRUE(out) << out.status().message();
  expectGolden(*out, "envoy_bootstrap_defaults.json");
}

TEST(EnvoyBootstrapTest, TokenExtrasAndFlushIntervalMatchGolden) {
  EnvoyBootstrapInput in = sidecar();
  in.datacenter = "east";
  in.token = "c0ffee00-1111-2222-3333-444455556666";
  in.adminAddress = "0.0.0.0";
  in.adminPort = 19001;
  in.adminAccessLogPath = "/var/log/envoy-admin.log";
  in.agentAddress = "10.0.0.7";
  in.agentPort = 9502;
  in.extraStaticClustersJson = R"({"name":"zipkin","type":"STRICT_DNS"}, {"name":"statsd"})";
  in.extraStaticListenersJson = R"({"name":"ready"})";
  in.statsFlushInterval = "5s";
  auto out = buildEnvoyBootstrap(in);
  ASSERT_TRUE(out) << out.status().message();
  expectGolden(*out, "envoy_bootstrap_token_extras.json");
}

TEST(EnvoyBootstrapTest, FieldsEnvoyNeedsArePresent) {
  EnvoyBootstrapInput in = sidecar();
  in.agentAddress = "127.0.0.2";
  in.agentPort = 18502;
  auto out = buildEnvoyBootstrap(in);
  ASSERT_TRUE(out);
  const OJson& b = *out;
  EXPECT_EQ(b["node"]["id"], "web-sidecar-proxy");
  EXPECT_EQ(b["node"]["cluster"], "web");
  const OJson& agent = b["static_resources"]["clusters"][0];
  EXPECT_EQ(agent["name"], "local_agent");
  const OJson& addr = agent["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
                           ["address"]["socket_address"];
  EXPECT_EQ(addr["address"], "127.0.0.2");
  EXPECT_EQ(addr["port_value"], 18502);
  const OJson& ads = b["dynamic_resources"]["ads_config"];
  EXPECT_EQ(ads["api_type"], "DELTA_GRPC");
  EXPECT_EQ(ads["grpc_services"]["envoy_grpc"]["cluster_name"], "local_agent");
  // Without a token there is nothing to send: no empty x-consul-token header.
  EXPECT_FALSE(ads["grpc_services"].contains("initial_metadata"));
  EXPECT_FALSE(b["static_resources"].contains("listeners"));
  EXPECT_FALSE(b.contains("stats_flush_interval"));
}

TEST(EnvoyBootstrapTest, MalformedExtraClustersNameTheKey) {
  EnvoyBootstrapInput in = sidecar();
  in.extraStaticClustersJson = R"({"name": "x",)";
  auto out = buildEnvoyBootstrap(in);
  ASSERT_FALSE(out);
  EXPECT_NE(out.status().message().find("envoy_extra_static_clusters_json"), std::string::npos)
      << out.status().message();
}

TEST(EnvoyBootstrapTest, ExtraListenersMustBeObjects) {
  EnvoyBootstrapInput in = sidecar();
  in.extraStaticListenersJson = R"({"name": "a"}, 7)";
  auto out = buildEnvoyBootstrap(in);
  ASSERT_FALSE(out);
  EXPECT_NE(out.status().message().find("envoy_extra_static_listeners_json"), std::string::npos);
}

}  // namespace
}  // namespace trellis::cli
