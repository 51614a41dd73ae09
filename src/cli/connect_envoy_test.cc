#include "cli/connect_envoy.h"

#include <gtest/gtest.h>

namespace trellis::cli {
namespace {

using nlohmann::json;

TEST(SplitHostPortTest, AcceptsNamesIpv4AndBracketedIpv6) {
  auto a = splitHostPort("localhost:19000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 19000);
  auto b = splitHostPort("[::1]:19002");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 19002);
}

TEST(SplitHostPortTest, RejectsMissingOrBadParts) {
  for (const char* bad : {"19000", "localhost", ":19000", "host:", "host:0", "host:65536",
                          "host:12x", "::1:19000", "[::1]19000", "[::1"}) {
    EXPECT_FALSE(splitHostPort(bad)) << bad;
  }
  EXPECT_NE(splitHostPort("19000").status().message().find("missing port"), std::string::npos);
}

TEST(ResolveIpTest, NumericAddressesStayAndLocalhostResolves) {
  EXPECT_EQ(resolveIp("10.1.2.3").value(), "10.1.2.3");
  EXPECT_EQ(resolveIp("::1").value(), "::1");
  auto local = resolveIp("localhost");
  ASSERT_TRUE(local) << local.status().message();
  EXPECT_TRUE(*local == "127.0.0.1" || *local == "::1") << *local;
  EXPECT_FALSE(resolveIp("no-such-host.invalid"));
}

TEST(ParseGrpcAddrTest, PlainAndHttpSchemeAreTheSame) {
  auto a = parseGrpcAddr("127.0.0.1:9502");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9502);
  auto b = parseGrpcAddr("http://localhost:9503/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "localhost");
  EXPECT_EQ(b->port, 9503);
  EXPECT_FALSE(parseGrpcAddr("https://localhost:8503"));
  EXPECT_FALSE(parseGrpcAddr("unix:///tmp/grpc.sock"));
}

TEST(XdsPortFromSelfTest, PrefersXdsThenDebugConfigThen8502) {
  EXPECT_EQ(xdsPortFromSelf(json::parse(R"({"xDS":{"Port":9502},"DebugConfig":{"GRPCPort":1}})")),
            9502);
  EXPECT_EQ(xdsPortFromSelf(json::parse(R"({"DebugConfig":{"GRPCPort":7502}})")), 7502);
  // gRPC off on the agent (-1): fall through to the next source.
  EXPECT_EQ(xdsPortFromSelf(json::parse(R"({"xDS":{"Port":-1},"DebugConfig":{"GRPCPort":6502}})")),
            6502);
  EXPECT_EQ(xdsPortFromSelf(json::parse(R"({"xDS":null})")), 8502);
  EXPECT_EQ(xdsPortFromSelf(json::array()), 8502);
}

json services() {
  return json::parse(R"({
    "web": {"ID": "web", "Service": "web", "Kind": ""},
    "web-sidecar-proxy": {"ID": "web-sidecar-proxy", "Service": "web-sidecar-proxy",
      "Kind": "connect-proxy", "Proxy": {"DestinationServiceName": "web",
      "DestinationServiceID": "web"}},
    "api-proxy": {"ID": "api-proxy", "Kind": "connect-proxy",
      "Proxy": {"destination_service_name": "api", "destination_service_id": "API-1"}},
    "db-gw": {"ID": "db-gw", "Kind": "terminating-gateway",
      "Proxy": {"DestinationServiceID": "db"}}
  })");
}

TEST(FindSidecarProxyIdTest, FindsTheOneProxyForTheService) {
  EXPECT_EQ(findSidecarProxyId(services(), "web").value(), "web-sidecar-proxy");
  // Consul compares IDs with EqualFold; snake_case Proxy keys are echoed by some agents.
  EXPECT_EQ(findSidecarProxyId(services(), "api-1").value(), "api-proxy");
}

TEST(FindSidecarProxyIdTest, NoneIsAnError) {
  auto r = findSidecarProxyId(services(), "db");  // only a gateway points there
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(), "No sidecar proxy registered for db");
}

TEST(FindSidecarProxyIdTest, SeveralIsAnErrorListingThem) {
  json s = services();
  s["web-proxy-2"] = json::parse(
      R"({"ID":"web-proxy-2","Kind":"connect-proxy","Proxy":{"DestinationServiceID":"web"}})");
  auto r = findSidecarProxyId(s, "web");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(),
            "More than one sidecar proxy registered for web.\n"
            "    Start proxy with -proxy-id and one of the following IDs: "
            "web-proxy-2, web-sidecar-proxy");
}

TEST(FindFieldTest, MatchesIgnoringCaseAndUnderscores) {
  json j = json::parse(R"({"local_service_port": 8080, "Config": {}})");
  ASSERT_NE(findField(j, "LocalServicePort"), nullptr);
  EXPECT_EQ(*findField(j, "LocalServicePort"), 8080);
  EXPECT_NE(findField(j, "config"), nullptr);
  EXPECT_EQ(findField(j, "LocalService"), nullptr);
  EXPECT_EQ(findField(json::array(), "x"), nullptr);
}

}  // namespace
}  // namespace trellis::cli
