// `connect envoy` against a fake agent: which proxy it picks, what it asks the agent, and the
// bootstrap fields that depend on flags, environment and the agent's answers.
#include <gtest/gtest.h>

#include "cli/cli.h"
#include "cli/fake_agent.h"

namespace trellis::cli {
namespace {

using nlohmann::json;
using testing::FakeAgent;
using testing::FakeResponse;
using testing::ok;
using testing::RecordedRequest;
using testing::runCli;

constexpr const char* kServices = R"({
  "web": {"ID": "web", "Service": "web", "Kind": "", "Port": 8080},
  "web-sidecar-proxy": {"ID": "web-sidecar-proxy", "Service": "web-sidecar-proxy",
    "Kind": "connect-proxy", "Port": 21000,
    "Proxy": {"DestinationServiceName": "web", "DestinationServiceID": "web",
              "LocalServicePort": 8080}}
})";

constexpr const char* kSidecar = R"({
  "ID": "web-sidecar-proxy", "Service": "web-sidecar-proxy", "Kind": "connect-proxy",
  "Port": 21000, "Datacenter": "east",
  "Proxy": {"DestinationServiceName": "web", "DestinationServiceID": "web",
            "LocalServicePort": 8080,
            "Config": {"envoy_stats_flush_interval": "10s",
                       "envoy_extra_static_clusters_json": "{\"name\": \"extra\"}"}}
})";

constexpr const char* kSelf =
    R"({"Config": {"Datacenter": "dc1"}, "DebugConfig": {"GRPCPort": 8502},
        "xDS": {"Port": 18502, "Ports": {"Plaintext": 18502, "TLS": -1}}})";

// An agent holding `services` (the /v1/agent/services body) and one proxy at
// /v1/agent/service/<proxyId>.
FakeAgent::Handler agentWith(std::string services, std::string proxyId, std::string proxy,
                             std::string self = kSelf) {
  return [=](const RecordedRequest& r) -> FakeResponse {
    if (r.path == "/v1/agent/services") return ok(services);
    if (r.path == "/v1/agent/self") return ok(self);
    if (r.path == "/v1/agent/service/" + proxyId) return ok(proxy);
    return FakeResponse{404, "unknown service ID: " + r.path.substr(r.path.rfind('/') + 1), {}};
  };
}

json bootstrapOf(const testing::Outcome& r) {
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out);
}

const json& agentSocket(const json& b) {
  return b["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]["lb_endpoints"]
          [0]["endpoint"]["address"]["socket_address"];
}

TEST(ConnectEnvoyTest, SidecarForFindsTheProxyAndUsesTheAgentsXdsPort) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-sidecar-for", "web"}, agent);
  json b = bootstrapOf(r);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(b["node"]["id"], "web-sidecar-proxy");
  EXPECT_EQ(b["node"]["cluster"], "web");
  EXPECT_EQ(b["node"]["metadata"], json::parse(R"({"namespace":"default","partition":"default"})"));
  EXPECT_EQ(agentSocket(b)["address"], "127.0.0.1");
  EXPECT_EQ(agentSocket(b)["port_value"], 18502);
  EXPECT_EQ(b["admin"]["address"]["socket_address"]["port_value"], 19000);
  EXPECT_EQ(b["admin"]["access_log_path"], "/dev/null");
  // Proxy.Config keys, and the datacenter from the service answer rather than the agent's.
  EXPECT_EQ(b["stats_flush_interval"], "10s");
  ASSERT_EQ(b["static_resources"]["clusters"].size(), 2u);
  EXPECT_EQ(b["static_resources"]["clusters"][1]["name"], "extra");
  EXPECT_EQ(b["stats_config"]["stats_tags"][4],
            json::parse(R"({"tag_name":"consul.source.datacenter","fixed_value":"east"})"));
  EXPECT_FALSE(b["dynamic_resources"]["ads_config"]["grpc_services"].contains("initial_metadata"));
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].path, "/v1/agent/services");
  EXPECT_EQ(reqs[1].path, "/v1/agent/self");
  EXPECT_EQ(reqs[2].path, "/v1/agent/service/web-sidecar-proxy");
}

TEST(ConnectEnvoyTest, SidecarForWithoutAProxyFails) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-sidecar-for", "api"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No sidecar proxy registered for api\n");
}

TEST(ConnectEnvoyTest, SidecarForWithTwoProxiesFails) {
  json services = json::parse(kServices);
  services["web-proxy-b"] = services["web-sidecar-proxy"];
  services["web-proxy-b"]["ID"] = "web-proxy-b";
  FakeAgent agent(agentWith(services.dump(), "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-sidecar-for", "web"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "More than one sidecar proxy registered for web.\n"
            "    Start proxy with -proxy-id and one of the following IDs: web-proxy-b, "
            "web-sidecar-proxy\n");
}

TEST(ConnectEnvoyTest, ProxyIdSkipsTheLookupAndANonSidecarUsesItsServiceName) {
  const char* gateway = R"({"ID": "gw-1", "Service": "ingress", "Kind": "ingress-gateway",
                            "Datacenter": "dc1", "Proxy": {}})";
  FakeAgent agent(agentWith("{}", "gw-1", gateway));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "gw-1"}, agent);
  json b = bootstrapOf(r);
  EXPECT_EQ(b["node"]["id"], "gw-1");
  EXPECT_EQ(b["node"]["cluster"], "ingress");
  for (const auto& req : agent.requests()) EXPECT_NE(req.path, "/v1/agent/services");
}

TEST(ConnectEnvoyTest, UnknownProxyIdReportsTheAgentsAnswer) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "nope"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "failed fetch proxy config from local agent: Unexpected response code: 404 "
                   "(unknown service ID: nope)\n");
}

TEST(ConnectEnvoyTest, NoProxyIdIsAnError) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "No proxy ID specified. One of -proxy-id or -sidecar-for is required\n");
  EXPECT_TRUE(agent.requests().empty());
}

TEST(ConnectEnvoyTest, TokenFlagBecomesGrpcMetadataAndAuthorizesTheCalls) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-sidecar-for", "web", "-token", "s3cret"},
                  agent);
  json b = bootstrapOf(r);
  EXPECT_EQ(b["dynamic_resources"]["ads_config"]["grpc_services"]["initial_metadata"],
            json::parse(R"([{"key":"x-consul-token","value":"s3cret"}])"));
  for (const auto& req : agent.requests()) EXPECT_EQ(req.headers.at("x-consul-token"), "s3cret");
}

TEST(ConnectEnvoyTest, TokenFromEnvironment) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy"}, agent,
                  {{"CONSUL_HTTP_TOKEN", "from-env"}});
  json b = bootstrapOf(r);
  EXPECT_EQ(b["dynamic_resources"]["ads_config"]["grpc_services"]["initial_metadata"][0]["value"],
            "from-env");
}

TEST(ConnectEnvoyTest, GrpcAddrFlagWinsOverEnvAndSkipsAgentSelf) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy",
                   "-grpc-addr", "localhost:9999"},
                  agent, {{"CONSUL_GRPC_ADDR", "127.0.0.1:7777"}});
  json b = bootstrapOf(r);
  EXPECT_TRUE(agentSocket(b)["address"] == "127.0.0.1" || agentSocket(b)["address"] == "::1");
  EXPECT_EQ(agentSocket(b)["port_value"], 9999);
  for (const auto& req : agent.requests()) EXPECT_NE(req.path, "/v1/agent/self");
}

TEST(ConnectEnvoyTest, GrpcAddrFromEnvironment) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy"}, agent,
                  {{"CONSUL_GRPC_ADDR", "http://10.9.8.7:7777"}});
  json b = bootstrapOf(r);
  EXPECT_EQ(agentSocket(b)["address"], "10.9.8.7");
  EXPECT_EQ(agentSocket(b)["port_value"], 7777);
}

TEST(ConnectEnvoyTest, AgentWithoutXdsFallsBackToDebugConfigThen8502) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar,
                            R"({"DebugConfig": {"GRPCPort": 6502}})"));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy"}, agent);
  EXPECT_EQ(agentSocket(bootstrapOf(r))["port_value"], 6502);

  // agent:read denied: warn and assume Consul's default port.
  FakeAgent denied([](const RecordedRequest& req) -> FakeResponse {
    if (req.path == "/v1/agent/self") return {403, "Permission denied", {}};
    return ok(kSidecar);
  });
  r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy"}, denied);
  EXPECT_EQ(agentSocket(bootstrapOf(r))["port_value"], 8502);
  EXPECT_NE(r.err.find("Warning"), std::string::npos) << r.err;
}

TEST(ConnectEnvoyTest, AdminBindIsResolvedToAnIp) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy",
                   "-admin-bind", "0.0.0.0:19005", "-admin-access-log-path", "/tmp/admin.log"},
                  agent);
  json b = bootstrapOf(r);
  EXPECT_EQ(b["admin"]["address"]["socket_address"],
            json::parse(R"({"address":"0.0.0.0","port_value":19005})"));
  EXPECT_EQ(b["admin"]["access_log_path"], "/tmp/admin.log");

  r = runCli({"connect", "envoy", "-bootstrap", "-proxy-id", "web-sidecar-proxy", "-admin-bind",
              "localhost"},
             agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Invalid -admin-bind address: address localhost: missing port in address\n");
}

TEST(ConnectEnvoyTest, WithoutBootstrapNeedsAnEnvoyBinary) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "envoy", "-sidecar-for", "web"}, agent,
                  {{"PATH", ::testing::TempDir() + "/no-such-dir"}});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("Couldn't find envoy binary"), std::string::npos) << r.err;
}

TEST(ConnectProxyTest, BootstrapIsTheSameAsEnvoys) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto envoy = runCli({"connect", "envoy", "-bootstrap", "-sidecar-for", "web"}, agent);
  auto proxy = runCli({"connect", "proxy", "-bootstrap", "-sidecar-for", "web"}, agent);
  ASSERT_EQ(proxy.code, 0) << proxy.err;
  EXPECT_EQ(bootstrapOf(proxy), bootstrapOf(envoy));
}

TEST(ConnectProxyTest, MissingProxyBinaryIsAClearError) {
  FakeAgent agent(agentWith(kServices, "web-sidecar-proxy", kSidecar));
  auto r = runCli({"connect", "proxy", "-sidecar-for", "web", "-proxy-binary",
                   ::testing::TempDir() + "/no-such-trellis-proxy"},
                  agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Failed to exec"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace trellis::cli
