// Filters people actually send to Consul, against elements shaped like Consul's JSON responses.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "filter/test_util.h"

namespace trellis::filter {
namespace {

using nlohmann::json;
using testing::eval;

// One element of GET /v1/catalog/service/web.
const json& catalogService() {
  static const json kValue = json::parse(R"({
    "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
    "Node": "web-01",
    "Address": "10.0.0.5",
    "Datacenter": "dc1",
    "TaggedAddresses": {"lan": "10.0.0.5", "wan": "198.18.0.5"},
    "NodeMeta": {"rack": "r1"},
    "ServiceKind": "",
    "ServiceID": "web-1",
    "ServiceName": "web",
    "ServiceTags": ["v1", "primary"],
    "ServiceAddress": "",
    "ServiceWeights": {"Passing": 10, "Warning": 1},
    "ServiceMeta": {"env": "prod", "team-name": "edge"},
    "ServicePort": 8080,
    "ServiceEnableTagOverride": false,
    "ServiceProxy": {"MeshGateway": {}, "Expose": {}},
    "ServiceConnect": {},
    "Namespace": "default",
    "CreateIndex": 12,
    "ModifyIndex": 12
  })");
  return kValue;
}

// One element of GET /v1/health/state/any.
const json& healthCheck() {
  static const json kValue = json::parse(R"({
    "Node": "web-01",
    "CheckID": "service:web-1",
    "Name": "Service 'web' check",
    "Status": "critical",
    "Notes": "",
    "Output": "HTTP GET http://10.0.0.5:8080/health: 503 Service Unavailable",
    "ServiceID": "web-1",
    "ServiceName": "web",
    "ServiceTags": ["v1", "primary"],
    "Type": "http",
    "Definition": {"Interval": "10s", "Timeout": "1s"},
    "CreateIndex": 20,
    "ModifyIndex": 31
  })");
  return kValue;
}

// One element of GET /v1/health/service/web.
const json& serviceEntry() {
  static const json kValue = json::parse(R"({
    "Node": {"Node": "web-01", "Address": "10.0.0.5", "Datacenter": "dc1",
             "Meta": {"consul-network-segment": ""}},
    "Service": {"ID": "web-1", "Service": "web", "Tags": ["v2"], "Port": 8080,
                "Meta": {"version": "v2"}, "Weights": {"Passing": 10, "Warning": 1}},
    "Checks": [
      {"Node": "web-01", "CheckID": "serfHealth", "Status": "passing", "ServiceID": ""},
      {"Node": "web-01", "CheckID": "service:web-1", "Status": "warning", "ServiceID": "web-1"}
    ]
  })");
  return kValue;
}

TEST(ConsulExamples, CatalogService) {
  EXPECT_TRUE(eval("ServiceMeta.env == prod and \"v1\" in ServiceTags", catalogService()));
  EXPECT_FALSE(eval("ServiceMeta.env == prod and \"v2\" in ServiceTags", catalogService()));
  EXPECT_TRUE(eval("ServiceMeta[\"team-name\"] == edge", catalogService()));
  EXPECT_TRUE(eval("ServicePort == 8080 and ServiceEnableTagOverride == false", catalogService()));
  EXPECT_TRUE(eval("NodeMeta.rack != r2", catalogService()));
  EXPECT_TRUE(
      eval("ServiceAddress is empty and TaggedAddresses.wan is not empty", catalogService()));
  EXPECT_TRUE(eval("ServiceWeights.Passing == 10", catalogService()));
  EXPECT_TRUE(eval("Node matches \"^web-\" and Datacenter == dc1", catalogService()));
  EXPECT_TRUE(eval("ServiceMeta.missing is empty", catalogService()));
}

TEST(ConsulExamples, HealthCheck) {
  EXPECT_TRUE(eval("Status != passing", healthCheck()));
  EXPECT_TRUE(eval("Node matches \"^web-\"", healthCheck()));
  EXPECT_TRUE(eval("Status == critical and ServiceName == web", healthCheck()));
  EXPECT_TRUE(eval("Output contains \"503\"", healthCheck()));
  EXPECT_FALSE(eval("Status == passing or Type == ttl", healthCheck()));
  EXPECT_TRUE(eval("Definition.Interval == \"10s\"", healthCheck()));
}

TEST(ConsulExamples, ServiceEntryWithChecks) {
  EXPECT_TRUE(eval("Service.Meta.version == v2", serviceEntry()));
  EXPECT_TRUE(eval("Checks.Status == warning", serviceEntry()));
  EXPECT_FALSE(eval("Checks.Status == critical", serviceEntry()));
  EXPECT_TRUE(eval("Checks.CheckID == serfHealth and Node.Node == \"web-01\"", serviceEntry()));
  EXPECT_TRUE(eval("v2 in Service.Tags and Service.Port == 8080", serviceEntry()));
  EXPECT_TRUE(eval("Node.Meta[\"consul-network-segment\"] is empty", serviceEntry()));
}

TEST(ConsulExamples, AgentServicesMapValues) {
  // /v1/agent/services filters each value of the map.
  const json services = json::parse(R"({
    "web-1": {"ID": "web-1", "Service": "web", "Tags": ["v1"], "Port": 8080, "Meta": {}},
    "db-1": {"ID": "db-1", "Service": "db", "Tags": [], "Port": 5432, "Meta": {"env": "prod"}}
  })");
  auto expr = Expression::parse("Service == web or Meta.env == prod");
  ASSERT_TRUE(expr.isOk());
  EXPECT_TRUE(expr->matches(services["web-1"]));
  EXPECT_TRUE(expr->matches(services["db-1"]));
  auto tagged = Expression::parse("Tags is empty");
  ASSERT_TRUE(tagged.isOk());
  EXPECT_FALSE(tagged->matches(services["web-1"]));
  EXPECT_TRUE(tagged->matches(services["db-1"]));
}

}  // namespace
}  // namespace trellis::filter
