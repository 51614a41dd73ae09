#include "model/config_entry.h"

#include <gtest/gtest.h>

namespace trellis::model {
namespace {

using nlohmann::json;

Result<ConfigEntry> decode(const char* text, bool legacy = false) {
  DecodeOptions o;
  o.legacy_intentions = legacy;
  return decodeConfigEntry(json::parse(text), o);
}

std::string err(const char* text, bool legacy = false) {
  auto r = decode(text, legacy);
  EXPECT_FALSE(r.isOk()) << text;
  return r.isOk() ? "" : r.status().message();
}

TEST(ConfigEntry, ServiceDefaultsSnakeCaseLowercaseKindRoundTrip) {
  auto r = decode(R"({"kind":"service-defaults","name":"web","protocol":"HTTP",
                      "mesh_gateway":{"mode":"local"},"upstream_config":{"defaults":
                      {"connect_timeout_ms":500,"passive_health_check":{"interval":"10000ms"}}},
                      "meta":{"team":"a"},"CreateIndex":7})");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->kind, "service-defaults");
  EXPECT_EQ(r->name, "web");
  EXPECT_EQ(serviceProtocol(*r), "http");
  r->create_index = 3;
  r->modify_index = 9;
  EXPECT_EQ(
      renderConfigEntry(*r).dump(),
      R"({"Kind":"service-defaults","Name":"web","Protocol":"http",)"
      R"("MeshGateway":{"Mode":"local"},"UpstreamConfig":{"Defaults":{"ConnectTimeoutMs":500,)"
      R"("PassiveHealthCheck":{"Interval":"10s"}}},"Meta":{"team":"a"},)"
      R"("CreateIndex":3,"ModifyIndex":9})");
  // The rendered form decodes back to the same canonical body.
  auto again = decodeConfigEntry(json::parse(renderConfigEntry(*r).dump()));
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again->body, r->body);
}

TEST(ConfigEntry, DecodeErrors) {
  EXPECT_EQ(err(R"({"Kind":"bogus","Name":"x"})"),
            "Request decoding failed: invalid config entry kind: bogus");
  EXPECT_EQ(err(R"({"Name":"x"})"),
            "Request decoding failed: Payload does not contain a kind/Kind key at the top level");
  EXPECT_EQ(err(R"({"Kind":"service-defaults","Name":"x","Bogus":1})"),
            "Request decoding failed: json: unknown field \"Bogus\"");
  EXPECT_EQ(err(R"({"Kind":"service-defaults","Name":"x","MaxInboundConnections":"9"})"),
            "Request decoding failed: json: cannot unmarshal string into Go struct field "
            "structs.ServiceConfigEntry.MaxInboundConnections of type int");
  EXPECT_EQ(
      err(R"({"Kind":"service-defaults","Name":"x","Protocol":"udp"})"),
      "Protocol: invalid value \"udp\", must be one of \"tcp\", \"http\", \"http2\", \"grpc\"");
  EXPECT_EQ(err(R"({"Kind":"service-defaults"})"), "Name is required");
  EXPECT_EQ(err(R"({"Kind":"service-defaults","Name":"x","Namespace":"other"})"),
            "Namespace: invalid value \"other\", must be one of \"default\"");
  EXPECT_EQ(err(R"({"Kind":"service-resolver","Name":"x","ConnectTimeout":"5 parsecs"})"),
            "Request decoding failed: time: invalid duration \"5 parsecs\"");
  EXPECT_EQ(err(R"({"Kind":"service-defaults","Name":"x","Expose":{"Paths":[{"Bad":1}]}})"),
            "Request decoding failed: json: unknown field \"Bad\"");
  auto arr = decodeConfigEntry(json::array());
  EXPECT_EQ(arr.status().message(),
            "Request decoding failed: json: cannot unmarshal array into Go value of type "
            "map[string]interface {}");
}

TEST(ConfigEntry, ProxyDefaultsNameAndConfig) {
  EXPECT_EQ(err(R"({"Kind":"proxy-defaults","Name":"web"})"),
            "invalid name (\"web\"), only \"global\" is supported");
  auto r = decode(R"({"Kind":"proxy-defaults","Config":{"protocol":"http","x":[1,{"y":2}]},
                      "Mode":"transparent","transparent_proxy":{"outbound_listener_port":15001}})");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->name, "global");
  EXPECT_EQ(proxyConfig(*r)["protocol"], "http");
  EXPECT_EQ(proxyConfig(*r)["x"][1]["y"], 2);
  EXPECT_EQ(err(R"({"Kind":"proxy-defaults","Mode":"sideways"})"),
            "Mode: invalid value \"sideways\", must be one of \"direct\", \"transparent\"");
  EXPECT_EQ(err(R"({"Kind":"proxy-defaults","TransparentProxy":{"OutboundListenerPort":70000}})"),
            "TransparentProxy.OutboundListenerPort must be between 0 and 65535, got 70000");
  EXPECT_EQ(err(R"({"Kind":"proxy-defaults","AccessLogs":{"Enabled":true,"Type":"file"}})"),
            "AccessLogs: path must be specified when writing to a file");
  EXPECT_EQ(err(R"({"Kind":"proxy-defaults","Config":{"protocol":7}})"),
            "Config.protocol must be a string");
}

TEST(ConfigEntry, Mesh) {
  EXPECT_EQ(err(R"({"Kind":"mesh","Name":"global"})"),
            "invalid name (\"global\"), only \"mesh\" is supported");
  auto r = decode(R"({"Kind":"mesh","TransparentProxy":{"MeshDestinationsOnly":true},
                      "TLS":{"Incoming":{"TLSMinVersion":"TLSv1_2"}},
                      "http":{"sanitize_x_forwarded_client_cert":true}})");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->name, "mesh");
  MeshSettings m = meshSettings(*r);
  EXPECT_TRUE(m.mesh_destinations_only);
  EXPECT_TRUE(m.sanitize_xfcc);
  EXPECT_EQ(m.incoming_tls_min, "TLSv1_2");
  EXPECT_EQ(err(R"({"Kind":"mesh","TLS":{"Outgoing":{"TLSMinVersion":"TLSv1_3",
                  "TLSMaxVersion":"TLSv1_1"}}})"),
            "error parsing Outgoing TLS config: TLSMinVersion \"TLSv1_3\" must be less than or "
            "equal to TLSMaxVersion \"TLSv1_1\"");
  EXPECT_EQ(err(R"({"Kind":"mesh","TLS":{"Incoming":{"TLSMinVersion":"SSLv3"}}})"),
            "TLSMinVersion: invalid value \"SSLv3\", must be one of \"TLS_AUTO\", \"TLSv1_0\", "
            "\"TLSv1_1\", \"TLSv1_2\", \"TLSv1_3\"");
}

TEST(ConfigEntry, ServiceIntentionsNormalizeSortAndRender) {
  auto r = decode(R"({"Kind":"service-intentions","Name":"db","Sources":[
      {"Name":"*","Action":"deny"},
      {"name":"web","permissions":[{"action":"allow","http":{"path_prefix":"/api",
        "methods":["get","post"],"header":[{"name":"x-a","present":true}]}}]},
      {"Name":"ops","Action":"allow","LegacyID":"dropped"}]})");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(renderConfigEntry(*r).dump(),
            R"({"Kind":"service-intentions","Name":"db","Sources":[)"
            R"({"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"/api",)"
            R"("Header":[{"Name":"x-a","Present":true}],"Methods":["GET","POST"]}}],)"
            R"("Precedence":9,"Type":"consul"},)"
            R"({"Name":"ops","Action":"allow","Precedence":9,"Type":"consul"},)"
            R"({"Name":"*","Action":"deny","Precedence":8,"Type":"consul"}],)"
            R"("CreateIndex":0,"ModifyIndex":0})");
  auto si = serviceIntentions(*r);
  ASSERT_TRUE(si.isOk());
  ASSERT_EQ(si->sources.size(), 3u);
  EXPECT_EQ(si->sources[0].permissions[0].http->methods[1], "POST");
  EXPECT_TRUE(si->sources[0].permissions[0].http->headers[0].present);
  // typed -> entry -> typed is stable
  auto back = makeServiceIntentions(*si, false);
  ASSERT_TRUE(back.isOk()) << back.status().message();
  EXPECT_EQ(back->body, r->body);
}

TEST(ConfigEntry, ServiceIntentionsErrors) {
  auto e = [](const std::string& sources, const char* name = "db") {
    std::string text = std::string(R"({"Kind":"service-intentions","Name":")") + name +
                       R"(","Sources":)" + sources + "}";
    auto r = decodeConfigEntry(json::parse(text));
    return r.isOk() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(e("[]"), "At least one source is required");
  EXPECT_EQ(e(R"([{"Action":"allow"}])"), "Sources[0].Name is required");
  EXPECT_EQ(e(R"([{"Name":"we*b","Action":"allow"}])"),
            "Sources[0].Name: wildcard character '*' cannot be used with partial values");
  EXPECT_EQ(e(R"([{"Name":"web","Action":"allow"}])", "d*b"),
            "Name: wildcard character '*' cannot be used with partial values");
  EXPECT_EQ(e(R"([{"Name":"web"}])"), "Sources[0].Action must be set to 'allow' or 'deny'");
  EXPECT_EQ(e(R"([{"Name":"web","Action":"ALLOW"}])"),
            "Sources[0].Action must be set to 'allow' or 'deny'");
  EXPECT_EQ(e(R"([{"Name":"web","Action":"allow","Type":"k8s"}])"),
            "Sources[0].Type must be set to 'consul'");
  EXPECT_EQ(e(R"([{"Name":"web","Action":"allow"},{"Name":"web","Action":"deny"}])"),
            "Sources[1] defines \"web\" more than once");
  EXPECT_EQ(e(R"([{"Name":"web","Action":"allow","Permissions":[{"Action":"allow",
                 "HTTP":{"PathExact":"/a"}}]}])"),
            "Sources[0].Action must be omitted if Permissions are specified");
  EXPECT_EQ(
      e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathExact":"/"}}]}])", "*"),
      "Sources[0].Permissions cannot be specified on intentions with wildcarded "
      "destinations");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"maybe","HTTP":{"PathExact":"/"}}]}])"),
            "Sources[0].Permissions[0].Action must be set to 'allow' or 'deny'");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow"}]}])"),
            "Sources[0].Permissions[0].HTTP is required");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{}}]}])"),
            "Sources[0].Permissions[0].HTTP should not be empty");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathExact":"a"}}]}])"),
            "Sources[0].Permissions[0].HTTP.PathExact doesn't start with '/': \"a\"");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"a"}}]}])"),
            "Sources[0].Permissions[0].HTTP.PathPrefix doesn't start with '/': \"a\"");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathExact":"/a",
                 "PathRegex":".*"}}]}])"),
            "Sources[0].Permissions[0].HTTP should only contain at most one of PathExact, "
            "PathPrefix, or PathRegex");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[
                 {"Exact":"x"}]}}]}])"),
            "Sources[0].Permissions[0].HTTP.Header[0] missing required Name field");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[
                 {"Name":"a","Exact":"x","Suffix":"y"}]}}]}])"),
            "Sources[0].Permissions[0].HTTP.Header[0] should only contain one of Present, "
            "Exact, Prefix, Suffix, or Regex");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[
                 {"Name":"a","Invert":true}]}}]}])"),
            "Sources[0].Permissions[0].HTTP.Header[0] should only contain one of Present, "
            "Exact, Prefix, Suffix, or Regex");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Methods":
                 ["GET","FETCH"]}}]}])"),
            "Sources[0].Permissions[0].HTTP.Methods contains an invalid method \"FETCH\"");
  EXPECT_EQ(e(R"([{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Methods":
                 ["GET","get"]}}]}])"),
            "Sources[0].Permissions[0].HTTP.Methods contains \"GET\" more than once");
  EXPECT_EQ(e(R"([{"Name":"web","Action":"allow","LegacyMeta":{"a":"b"}}])"),
            "Sources[0].LegacyMeta must be omitted");
  EXPECT_EQ(
      e(R"([{"Name":"web","Action":"allow","Description":")" + std::string(513, 'x') + R"("}])"),
      "Sources[0].Description exceeds maximum length 512");
}

TEST(ConfigEntry, LegacyIntentionWrites) {
  EXPECT_EQ(err(R"({"Kind":"service-intentions","Name":"db","Sources":[{"Name":"web",
                  "Action":"allow","LegacyCreateTime":"2020-01-01T00:00:00Z",
                  "LegacyUpdateTime":"2020-01-01T00:00:00Z"}]})",
                true),
            "Sources[0].LegacyID must be set");
  EXPECT_EQ(err(R"({"Kind":"service-intentions","Name":"db","Meta":{"a":"b"},"Sources":[]})", true),
            "Meta must be omitted for legacy intention writes");
  auto r = decode(R"({"Kind":"service-intentions","Name":"db","Sources":[{"Name":"web",
                  "Action":"allow","LegacyID":"id-1","LegacyCreateTime":"2020-01-01T00:00:00Z",
                  "LegacyUpdateTime":"2020-01-02T00:00:00Z"}]})",
                  true);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  auto si = serviceIntentions(*r);
  EXPECT_EQ(si->sources[0].legacy_id, "id-1");
  EXPECT_EQ(si->sources[0].legacy_update_time, "2020-01-02T00:00:00Z");
  EXPECT_NE(r->body.find("\"LegacyMeta\":{}"), std::string::npos);
}

TEST(ConfigEntry, MetaLimits) {
  std::string many = R"({"Kind":"service-defaults","Name":"x","Meta":{)";
  for (int i = 0; i < 65; ++i)
    many += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  many += "}}";
  EXPECT_EQ(decodeConfigEntry(json::parse(many)).status().message(),
            "Meta exceeds maximum element count 64");
  std::string long_key =
      R"({"Kind":"service-defaults","Name":"x","Meta":{")" + std::string(129, 'k') + R"(":"v"}})";
  EXPECT_EQ(decodeConfigEntry(json::parse(long_key)).status().message(),
            "Meta key \"" + std::string(129, 'k') + "\" exceeds maximum length 128");
}

TEST(ConfigEntry, ChainAndGatewayKinds) {
  EXPECT_TRUE(decode(R"({"Kind":"service-router","Name":"web","Routes":[{"Match":{"HTTP":
      {"PathPrefix":"/admin"}},"Destination":{"Service":"admin","RequestTimeout":"2s",
      "RetryOn":["5xx"],"PrefixRewrite":"/"}}]})")
                  .isOk());
  EXPECT_EQ(err(R"({"Kind":"service-router","Name":"web","Routes":[{"Destination":
      {"PrefixRewrite":"/"}}]})"),
            "Route[0] cannot make use of PrefixRewrite without configuring either PathExact or "
            "PathPrefix");
  EXPECT_EQ(err(R"({"Kind":"service-router","Name":"web","Routes":[{"Destination":
      {"RetryOn":["sometimes"]}}]})")
                .substr(0, 35),
            "RetryOn: invalid value \"sometimes\",");
  EXPECT_TRUE(decode(R"({"Kind":"service-splitter","Name":"web","Splits":[{"Weight":90},
      {"Weight":10,"ServiceSubset":"v2"}]})")
                  .isOk());
  EXPECT_EQ(err(R"({"Kind":"service-splitter","Name":"web","Splits":[{"Weight":90}]})"),
            "the sum of all split weights must be 100, not 90.00");
  EXPECT_EQ(err(R"({"Kind":"service-splitter","Name":"web"})"), "no splits configured");
  auto res = decode(R"({"Kind":"service-resolver","Name":"web","DefaultSubset":"v1",
      "Subsets":{"v1":{"Filter":"Service.Meta.version == v1"}},"ConnectTimeout":"15s",
      "LoadBalancer":{"Policy":"ring_hash",
      "HashPolicies":[{"Field":"header","FieldValue":"x"}]}})");
  ASSERT_TRUE(res.isOk()) << res.status().message();
  EXPECT_EQ(err(R"({"Kind":"service-resolver","Name":"web","DefaultSubset":"v9"})"),
            "DefaultSubset \"v9\" is not a valid subset");
  EXPECT_EQ(err(R"({"Kind":"service-resolver","Name":"web","LoadBalancer":{"Policy":"fastest"}})")
                .substr(0, 33),
            "Policy: invalid value \"fastest\", ");
  EXPECT_TRUE(decode(R"({"Kind":"ingress-gateway","Name":"ig","Listeners":[{"Port":8080,
      "Protocol":"http","Services":[{"Name":"*"}]}]})")
                  .isOk());
  EXPECT_EQ(err(R"({"Kind":"ingress-gateway","Name":"ig","Listeners":[{"Port":8080,
      "Protocol":"tcp","Services":[{"Name":"a"},{"Name":"b"}]}]})"),
            "Multiple services per listener are only supported for L7 protocols, 'http', 'grpc' "
            "and 'http2' (listener on port 8080)");
  EXPECT_EQ(err(R"({"Kind":"ingress-gateway","Name":"ig","Listeners":[{"Services":[{}]}]})"),
            "Listeners[0].Services[0]: Name is required");
  EXPECT_TRUE(decode(R"({"Kind":"terminating-gateway","Name":"tg","Services":[{"Name":"ext",
      "CAFile":"/ca.pem"}]})")
                  .isOk());
  EXPECT_EQ(err(R"({"Kind":"terminating-gateway","Name":"tg","Services":[{"Name":"ext",
      "CertFile":"/c.pem"}]})"),
            "Service \"ext\" must have a CertFile and KeyFile specified together");
}

TEST(ConfigEntry, IsSupportedKind) {
  EXPECT_TRUE(isSupportedKind("service-intentions"));
  EXPECT_FALSE(isSupportedKind("exported-services"));
  ConfigEntry e{"service-defaults", "x", R"({"Kind":"service-defaults","Name":"x"})", 0, 0};
  EXPECT_FALSE(serviceIntentions(e).isOk());
  EXPECT_EQ(serviceProtocol(e), "");
}

}  // namespace
}  // namespace trellis::model
