#include "proxy/data/admin.h"

#include <gtest/gtest.h>

namespace trellis::proxy::data {
namespace {

AdminHandlers handlers() {
  AdminHandlers h;
  h["/ready"] = [] { return AdminResponse{200, "text/plain", "LIVE\n"}; };
  return h;
}

TEST(Admin, ParsesRequestLine) {
  auto r = parseAdminRequest("GET /stats/prometheus?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/stats/prometheus");
  EXPECT_FALSE(parseAdminRequest("").isOk());
  EXPECT_FALSE(parseAdminRequest("GET\r\n\r\n").isOk());
  EXPECT_FALSE(parseAdminRequest("GET  HTTP/1.1\r\n\r\n").isOk());
  EXPECT_FALSE(parseAdminRequest("GET x HTTP/1.1\r\n\r\n").isOk());
  EXPECT_FALSE(parseAdminRequest("GET / SPDY/3\r\n\r\n").isOk());
  EXPECT_FALSE(parseAdminRequest("g3t / HTTP/1.1\r\n\r\n").isOk());
}

TEST(Admin, RoutesAndRefuses) {
  const auto h = handlers();
  EXPECT_EQ(respond(h, "GET /ready HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(respond(h, "GET /ready HTTP/1.1\r\n\r\n").find("\r\n\r\nLIVE\n"), std::string::npos);
  EXPECT_EQ(respond(h, "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(respond(h, "POST /ready HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(respond(h, "\x16\x03\x01garbage").rfind("HTTP/1.1 400", 0), 0u);
}

TEST(Admin, ConfigDumpRedactsPrivateKeys) {
  ProxyConfig c;
  c.generation = 4;
  Listener l;
  l.name = "public_listener";
  l.tls = true;
  l.tls_material = {"-----BEGIN CERTIFICATE-----x", "-----BEGIN EC PRIVATE KEY-----secret", "ca"};
  c.listeners[l.name] = l;
  Cluster cl;
  cl.name = "db";
  cl.tls = true;
  cl.tls_material = l.tls_material;
  cl.endpoints = {{"127.0.0.1", 8080, true, 1}};
  c.clusters[cl.name] = cl;
  const std::string json = configDumpJson(c);
  EXPECT_EQ(json.find("secret"), std::string::npos);
  EXPECT_NE(json.find("[redacted]"), std::string::npos);
  EXPECT_NE(json.find("\"generation\": 4"), std::string::npos);
  EXPECT_NE(json.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(json.find("\"port\": 8080"), std::string::npos);
}

}  // namespace
}  // namespace trellis::proxy::data
