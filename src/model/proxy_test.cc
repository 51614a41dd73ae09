#include "model/proxy.h"

#include <gtest/gtest.h>

namespace trellis::model {
namespace {

pb::ConnectProxyConfig decode(const std::string& text) {
  pb::ConnectProxyConfig p;
  Status s = decodeProxy(InJson::parse(text), &p);
  EXPECT_TRUE(s.isOk()) << s.message();
  return p;
}

std::string decodeError(const std::string& text) {
  pb::ConnectProxyConfig p;
  Status s = decodeProxy(InJson::parse(text), &p);
  EXPECT_FALSE(s.isOk());
  return s.message();
}

constexpr const char* kPascal = R"({
  "DestinationServiceName": "web", "DestinationServiceID": "web-1",
  "LocalServiceAddress": "127.0.0.1", "LocalServicePort": 8080, "Mode": "transparent",
  "TransparentProxy": {"OutboundListenerPort": 15001, "DialedDirectly": true},
  "MutualTLSMode": "strict",
  "Config": {"protocol": "http", "local_connect_timeout_ms": 1000, "bind_port": 21001},
  "Upstreams": [{"DestinationName": "api", "LocalBindPort": 9191, "Datacenter": "dc2",
                 "Config": {"connect_timeout_ms": 500}, "MeshGateway": {"Mode": "local"}}],
  "MeshGateway": {"Mode": "remote"},
  "Expose": {"Checks": true, "Paths": [{"Path": "/metrics", "ListenerPort": 21500,
                                        "LocalPathPort": 9102, "Protocol": "http"}]}
})";

constexpr const char* kSnake = R"({
  "destination_service_name": "web", "destination_service_id": "web-1",
  "local_service_address": "127.0.0.1", "local_service_port": 8080, "mode": "transparent",
  "transparent_proxy": {"outbound_listener_port": 15001, "dialed_directly": true},
  "mutual_tls_mode": "strict",
  "config": {"protocol": "http", "local_connect_timeout_ms": 1000, "bind_port": 21001},
  "upstreams": [{"destination_name": "api", "local_bind_port": 9191, "datacenter": "dc2",
                 "config": {"connect_timeout_ms": 500}, "mesh_gateway": {"mode": "local"}}],
  "mesh_gateway": {"mode": "remote"},
  "expose": {"checks": true, "paths": [{"path": "/metrics", "listener_port": 21500,
                                        "local_path_port": 9102, "protocol": "http"}]}
})";

TEST(ProxyDecode, PascalAndSnakeCaseDecodeToTheSameConfig) {
  pb::ConnectProxyConfig a = decode(kPascal);
  pb::ConnectProxyConfig b = decode(kSnake);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(a.destination_service_name(), "web");
  EXPECT_EQ(a.local_service_port(), 8080);
  EXPECT_EQ(a.transparent_proxy().outbound_listener_port(), 15001);
  ASSERT_EQ(a.upstreams_size(), 1);
  EXPECT_EQ(a.upstreams(0).destination_name(), "api");
  EXPECT_EQ(a.upstreams(0).local_bind_port(), 9191);
  EXPECT_EQ(a.upstreams(0).mesh_gateway().mode(), "local");
  EXPECT_EQ(a.expose().paths(0).local_path_port(), 9102);
}

TEST(ProxyDecode, ConfigKeysStayVerbatim) {
  pb::ConnectProxyConfig p = decode(R"({"Config": {"bind_address": "0.0.0.0",
      "Protocol": "grpc", "envoy_prometheus_bind_addr": "0.0.0.0:9102"}})");
  auto c = InJson::parse(p.config_json());
  EXPECT_EQ(c["bind_address"], "0.0.0.0");
  EXPECT_EQ(c["Protocol"], "grpc");  // opaque: not canonicalised
  EXPECT_EQ(c.size(), 3u);
}

TEST(ProxyDecode, SingleUpstreamObjectFromHclIsAListOfOne) {
  pb::ConnectProxyConfig p =
      decode(R"({"upstreams": {"destination_name": "db", "local_bind_port": 5432}})");
  ASSERT_EQ(p.upstreams_size(), 1);
  EXPECT_EQ(p.upstreams(0).destination_name(), "db");
}

TEST(ProxyDecode, ErrorsAreGoLike) {
  EXPECT_EQ(decodeError(R"({"LocalServicePort": "80"})"),
            "Request decode failed: json: cannot unmarshal string into Go struct field "
            "ConnectProxyConfig.LocalServicePort of type int");
  EXPECT_EQ(decodeError(R"({"Upstreams": [{"DestinationName": "a", "Bogus": 1}]})"),
            "Request decode failed: json: unknown field \"Bogus\"");
  EXPECT_EQ(decodeError(R"({"Upstreams": [{"LocalBindPort": true}]})"),
            "Request decode failed: json: cannot unmarshal bool into Go struct field "
            "Upstream.LocalBindPort of type int");
  EXPECT_EQ(decodeError(R"({"Config": []})"),
            "Request decode failed: json: cannot unmarshal array into Go struct field "
            "ConnectProxyConfig.Config of type map[string]interface {}");
  EXPECT_NE(decodeError(R"({"Upstreams": "api"})").find("[]Upstream"), std::string::npos);
}

TEST(ProxyRender, AgentViewOmitsZeroFieldsCatalogViewKeepsGoDefaults) {
  pb::ConnectProxyConfig p = decode(
      R"({"DestinationServiceName": "web", "Upstreams": [{"DestinationType": "service",
          "DestinationName": "api", "LocalBindPort": 9191}]})");
  EXPECT_EQ(renderProxy(p, ProxyView::kAgent).dump(),
            R"({"DestinationServiceName":"web","Upstreams":[{"DestinationType":"service",)"
            R"("DestinationName":"api","LocalBindPort":9191,"MeshGateway":{}}],)"
            R"("MeshGateway":{},"Expose":{}})");
  EXPECT_EQ(renderProxy(p, ProxyView::kCatalog).dump(),
            R"({"DestinationServiceName":"web","Mode":"","Upstreams":[{"DestinationType":)"
            R"("service","DestinationName":"api","Datacenter":"","LocalBindPort":9191,)"
            R"("MeshGateway":{}}],"MeshGateway":{},"Expose":{}})");
  EXPECT_EQ(renderProxy(pb::ConnectProxyConfig(), ProxyView::kCatalog).dump(),
            R"({"Mode":"","MeshGateway":{},"Expose":{}})");
}

TEST(ProxyRender, RoundTripsThroughTheDecoder) {
  pb::ConnectProxyConfig a = decode(kSnake);
  Json rendered = renderProxy(a, ProxyView::kAgent);
  EXPECT_EQ(rendered["Config"]["local_connect_timeout_ms"], 1000);
  EXPECT_EQ(rendered["TransparentProxy"]["DialedDirectly"], true);
  pb::ConnectProxyConfig b = decode(rendered.dump());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
}

TEST(ProxyRender, ConnectBlock) {
  EXPECT_EQ(renderConnect(false).dump(), "{}");
  EXPECT_EQ(renderConnect(true).dump(), R"({"Native":true})");
}

TEST(Upstream, IdAndBindAddress) {
  pb::Upstream u;
  u.set_destination_type("service");
  u.set_destination_name("api");
  u.set_local_bind_port(9191);
  EXPECT_EQ(upstreamId(u), "api");
  EXPECT_EQ(upstreamBindAddress(u), "127.0.0.1:9191");
  u.set_datacenter("dc2");
  EXPECT_EQ(upstreamId(u), "api?dc=dc2");
  u.set_destination_peer("p1");
  EXPECT_EQ(upstreamId(u), "api?peer=p1");
  u.set_destination_type("prepared_query");
  EXPECT_EQ(upstreamId(u), "prepared_query:api?peer=p1");
  u.set_local_bind_address("::1");
  EXPECT_EQ(upstreamBindAddress(u), "[::1]:9191");
  pb::Upstream sock;
  sock.set_local_bind_socket_path("/tmp/api.sock");
  EXPECT_EQ(upstreamBindAddress(sock), "/tmp/api.sock");
}

pb::Service proxyService(const std::string& proxy_json) {
  pb::Service s;
  s.set_kind("connect-proxy");
  s.set_port(21000);
  EXPECT_TRUE(decodeProxy(InJson::parse(proxy_json), s.mutable_proxy()).isOk());
  return s;
}

std::string why(const pb::Service& s, bool sidecar = false) {
  Status v = validateConnect(s, sidecar);
  return v.isOk() ? "ok" : v.message();
}

TEST(ValidateConnect, ConnectProxyRules) {
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web"})")), "ok");
  EXPECT_EQ(why(proxyService("{}")),
            "Proxy.DestinationServiceName must be non-empty for Connect proxy services");
  pb::Service no_port = proxyService(R"({"DestinationServiceName": "web"})");
  no_port.set_port(0);
  EXPECT_EQ(why(no_port), "Port or SocketPath must be set for a connect-proxy");
  no_port.set_socket_path("/run/web.sock");
  EXPECT_EQ(why(no_port), "ok");
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web"})"), true),
            "A connect-proxy cannot have a sidecar service defined");
  pb::Service native = proxyService(R"({"DestinationServiceName": "web"})");
  native.set_connect_native(true);
  EXPECT_EQ(why(native), "A Proxy cannot also be Connect Native, only typical services");
}

TEST(ValidateConnect, UpstreamRules) {
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web",
                                 "Upstreams": [{"LocalBindPort": 1}]})")),
            "upstream destination name cannot be empty");
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web",
                                 "Upstreams": [{"DestinationName": "api"}]})")),
            "upstream local bind port or local socket path must be defined and nonzero");
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web",
                                 "Upstreams": [{"DestinationName": "api",
                                                "LocalBindSocketPath": "/s"}]})")),
            "ok");
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web", "Upstreams": [
                 {"DestinationName": "a", "LocalBindPort": 9000},
                 {"DestinationName": "b", "LocalBindPort": 9000}]})")),
            "upstreams cannot contain duplicates by local bind address and port or unix path; "
            "\"127.0.0.1:9000\" is specified twice");
  EXPECT_EQ(why(proxyService(R"({"DestinationServiceName": "web", "Upstreams": [
                 {"DestinationType": "nope", "DestinationName": "a", "LocalBindPort": 1}]})")),
            "unknown upstream destination type: \"nope\"");
}

TEST(ValidateConnect, ProxyOnlyOnProxyKinds) {
  pb::Service typical;
  typical.set_port(80);
  EXPECT_EQ(why(typical), "ok");
  typical.mutable_proxy()->mutable_mesh_gateway();  // echoed `"MeshGateway":{}` is still empty
  EXPECT_EQ(why(typical), "ok");
  typical.mutable_proxy()->set_destination_service_name("web");
  EXPECT_EQ(why(typical), "Proxy is only valid for connect-proxy and gateway services (Kind \"\")");
  pb::Service gw;
  gw.set_kind("mesh-gateway");
  gw.set_port(8443);
  gw.mutable_proxy()->set_local_service_port(1);
  EXPECT_EQ(why(gw), "The Proxy.LocalServicePort configuration is invalid for a mesh-gateway");
  pb::Service native;
  native.set_connect_native(true);
  EXPECT_EQ(why(native), "Port or SocketPath must be set for a Connect native service.");
}

}  // namespace
}  // namespace trellis::model
