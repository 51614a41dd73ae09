#include "agent/sidecar.h"

#include <gtest/gtest.h>

namespace trellis::agent {
namespace {

ServiceDef decode(const char* body) {
  auto d = decodeService(model::InJson::parse(body), "n1");
  EXPECT_TRUE(d.isOk()) << d.status().message();
  return d.isOk() ? std::move(*d) : ServiceDef{};
}

std::string decodeError(const char* body) {
  auto d = decodeService(model::InJson::parse(body), "n1");
  return d.isOk() ? "ok" : d.status().message();
}

constexpr const char* kWeb =
    R"({"Name":"web","Port":8080,"Tags":["v1"],"Meta":{"team":"a"},"Locality":{"region":"r1"},
        "Connect":{"SidecarService":{"Proxy":{"Upstreams":[
          {"DestinationName":"api","LocalBindPort":9191}]}}}})";

TEST(Sidecar, DecodeKeepsTheNestedDefinitionAndClearsNothingElse) {
  ServiceDef d = decode(kWeb);
  ASSERT_NE(d.sidecar, nullptr);
  EXPECT_EQ(d.sidecar->service.id(), "web-sidecar-proxy");
  EXPECT_EQ(d.sidecar->service.service(), "web-sidecar-proxy");
  EXPECT_FALSE(d.service.connect_native());
  EXPECT_EQ(d.service.locality_json(), R"({"Region":"r1","Zone":""})");
  ASSERT_EQ(d.sidecar->service.proxy().upstreams_size(), 1);
  EXPECT_EQ(d.sidecar->service.proxy().upstreams(0).destination_type(), "service");
}

TEST(Sidecar, ExpansionAppliesConsulDefaults) {
  ServiceDef parent = decode(kWeb);
  auto sc = expandSidecar(parent, {{"web", 8080}}, SidecarPortRange{});
  ASSERT_TRUE(sc.isOk()) << sc.status().message();
  const pb::Service& s = sc->service;
  EXPECT_EQ(s.id(), "web-sidecar-proxy");
  EXPECT_EQ(s.service(), "web-sidecar-proxy");
  EXPECT_EQ(s.kind(), "connect-proxy");
  EXPECT_EQ(s.port(), 21000);
  EXPECT_EQ(s.address(), "");
  ASSERT_EQ(s.tags_size(), 1);
  EXPECT_EQ(s.tags(0), "v1");
  EXPECT_EQ(s.meta().at("team"), "a");
  EXPECT_EQ(s.locality_json(), parent.service.locality_json());
  EXPECT_EQ(s.proxy().destination_service_name(), "web");
  EXPECT_EQ(s.proxy().destination_service_id(), "web");
  EXPECT_EQ(s.proxy().local_service_address(), "127.0.0.1");
  EXPECT_EQ(s.proxy().local_service_port(), 8080);
  ASSERT_EQ(sc->checks.size(), 2u);
  const pb::Check& tcp = sc->checks[0].check;
  EXPECT_EQ(tcp.check_id(), "service:web-sidecar-proxy:1");
  EXPECT_EQ(tcp.name(), "Connect Sidecar Listening");
  EXPECT_EQ(tcp.type(), "tcp");
  EXPECT_EQ(tcp.definition().tcp(), "127.0.0.1:21000");
  EXPECT_EQ(tcp.definition().interval_ns(), 10'000'000'000);
  EXPECT_EQ(tcp.service_id(), "web-sidecar-proxy");
  const pb::Check& alias = sc->checks[1].check;
  EXPECT_EQ(alias.check_id(), "service:web-sidecar-proxy:2");
  EXPECT_EQ(alias.name(), "Connect Sidecar Aliasing web");
  EXPECT_EQ(alias.definition().alias_service(), "web");
  EXPECT_EQ(alias.status(), "critical");
}

TEST(Sidecar, GivenValuesWin) {
  ServiceDef parent = decode(
      R"({"name":"web","id":"web-1","port":8080,"address":"10.0.0.5","tags":["p"],
          "connect":{"sidecar_service":{"name":"edge","port":30000,"tags":["s"],
            "address":"10.0.0.6","token":"tok","checks":[{"name":"mine","ttl":"30s"}],
            "proxy":{"local_service_port":9999,"config":{"protocol":"http"}}}}})");
  auto sc = expandSidecar(parent, {}, SidecarPortRange{});
  ASSERT_TRUE(sc.isOk()) << sc.status().message();
  EXPECT_EQ(sc->service.id(), "web-1-sidecar-proxy");
  EXPECT_EQ(sc->service.service(), "edge");
  EXPECT_EQ(sc->service.port(), 30000);
  EXPECT_EQ(sc->service.address(), "10.0.0.6");
  EXPECT_EQ(sc->service.tags(0), "s");
  EXPECT_EQ(sc->token, "tok");
  EXPECT_EQ(sc->service.proxy().local_service_port(), 9999);
  EXPECT_EQ(sc->service.proxy().local_service_address(), "");  // not filled: one was given
  EXPECT_EQ(sc->service.proxy().destination_service_id(), "web-1");
  ASSERT_EQ(sc->checks.size(), 1u);
  EXPECT_EQ(sc->checks[0].check.check_id(), "service:web-1-sidecar-proxy");
  EXPECT_EQ(sc->checks[0].check.name(), "mine");
}

TEST(Sidecar, AddressAndSocketPathFromParent) {
  ServiceDef v6 =
      decode(R"({"Name":"web","Port":80,"Address":"fd00::5","Connect":{"SidecarService":{}}})");
  auto sc = expandSidecar(v6, {}, SidecarPortRange{});
  ASSERT_TRUE(sc.isOk());
  EXPECT_EQ(sc->service.address(), "fd00::5");
  EXPECT_EQ(sc->checks[0].check.definition().tcp(), "[fd00::5]:21000");
  ServiceDef sock =
      decode(R"({"Name":"web","SocketPath":"/run/web.sock","Connect":{"SidecarService":{}}})");
  sc = expandSidecar(sock, {}, SidecarPortRange{});
  ASSERT_TRUE(sc.isOk());
  EXPECT_EQ(sc->service.proxy().local_service_socket_path(), "/run/web.sock");
  EXPECT_EQ(sc->service.proxy().local_service_port(), 0);
  EXPECT_EQ(sc->checks[0].check.definition().tcp(), "127.0.0.1:21000");
}

TEST(Sidecar, PortIsLowestFreeAndStableAcrossReRegistration) {
  ServiceDef parent = decode(kWeb);
  std::map<std::string, int> ports{
      {"a-sidecar-proxy", 21000}, {"b", 21001}, {"c", 8080}, {"d-sidecar-proxy", 21003}};
  auto sc = expandSidecar(parent, ports, SidecarPortRange{});
  ASSERT_TRUE(sc.isOk());
  EXPECT_EQ(sc->service.port(), 21002);
  // Once registered, it keeps its port even though a lower one became free.
  ports.erase("a-sidecar-proxy");
  ports["web-sidecar-proxy"] = 21002;
  sc = expandSidecar(parent, ports, SidecarPortRange{});
  ASSERT_TRUE(sc.isOk());
  EXPECT_EQ(sc->service.port(), 21002);
}

TEST(Sidecar, RangeExhaustedOrDisabled) {
  ServiceDef parent = decode(kWeb);
  auto sc = expandSidecar(parent, {{"x", 21000}, {"y", 21001}}, SidecarPortRange{21000, 21001});
  EXPECT_EQ(sc.status().message(),
            "Invalid SidecarService: no port provided for sidecar_service and none left in the "
            "configured range [21000, 21001]");
  sc = expandSidecar(parent, {}, SidecarPortRange{0, 0});
  EXPECT_EQ(sc.status().message(),
            "Invalid SidecarService: no port provided for sidecar_service and auto-assignment "
            "disabled in config");
}

TEST(Sidecar, ExpandedProxyIsValidated) {
  ServiceDef parent = decode(
      R"({"Name":"web","Port":80,"Connect":{"SidecarService":{"Proxy":{"Upstreams":[
          {"DestinationName":"api"}]}}}})");
  EXPECT_EQ(expandSidecar(parent, {}, SidecarPortRange{}).status().message(),
            "Failed Validation: upstream local bind port or local socket path must be defined "
            "and nonzero");
}

TEST(Sidecar, DecodeRejectsWhatConsulRejects) {
  EXPECT_EQ(decodeError(R"({"Name":"web","Connect":{"SidecarService":{"ID":"x"}}})"),
            "Validation failed: A SidecarService cannot specify an ID as this is managed by the "
            "agent");
  EXPECT_EQ(decodeError(R"({"Name":"web","Connect":{"SidecarService":{
                            "Connect":{"SidecarService":{}}}}})"),
            "Validation failed: A SidecarService cannot have a nested SidecarService");
  EXPECT_NE(decodeError(R"({"Name":"web","Connect":{"Proxy":{}}})").find("Connect.Proxy"),
            std::string::npos);
  EXPECT_EQ(decodeError(R"({"Name":"p","Kind":"connect-proxy","Port":1,
                            "Proxy":{"DestinationServiceName":"web"},
                            "Connect":{"SidecarService":{}}})"),
            "Validation failed: A connect-proxy cannot have a sidecar service defined");
  EXPECT_EQ(decodeError(R"({"Name":"p","Kind":"connect-proxy","Port":1})"),
            "Validation failed: Proxy.DestinationServiceName must be non-empty for Connect proxy "
            "services");
  EXPECT_EQ(decodeError(R"({"Name":"web","Port":1,"Proxy":{"DestinationServiceName":"x"}})"),
            "Validation failed: Proxy is only valid for connect-proxy and gateway services "
            "(Kind \"\")");
  EXPECT_EQ(decodeError(R"({"Name":"web","Connect":{"SidecarService":{"Port":"x"}}})"),
            "Request decode failed: json: cannot unmarshal string into Go struct field "
            "ServiceDefinition.Port of type int");
  EXPECT_EQ(decodeError(R"({"Name":"web","Connect":{"SidecarService":{"Check":{"TTL":"1s",
                            "Status":"bad"}}}})"),
            "Status for checks must 'passing', 'warning', 'critical'");
}

}  // namespace
}  // namespace trellis::agent
