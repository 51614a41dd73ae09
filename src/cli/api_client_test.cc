#include "cli/api_client.h"

#include <gtest/gtest.h>

namespace trellis::cli {
namespace {

TEST(HttpAddrTest, ParsesConsulForms) {
  auto a = parseHttpAddr("127.0.0.1:8500");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->endpoint.host, "127.0.0.1");
  EXPECT_EQ(a->endpoint.port, 8500);
  EXPECT_EQ(a->pathPrefix, "");

  auto b = parseHttpAddr("http://localhost:18500/consul/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->endpoint.host, "localhost");
  EXPECT_EQ(b->endpoint.port, 18500);
  EXPECT_EQ(b->pathPrefix, "/consul");

  auto c = parseHttpAddr("http://[::1]:8500");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->endpoint.host, "::1");
  EXPECT_EQ(c->endpoint.port, 8500);

  auto d = parseHttpAddr("http://example.com");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->endpoint.port, 80);
}

TEST(HttpAddrTest, RejectsWhatItCannotServe) {
  auto unix = parseHttpAddr("unix:///var/run/consul.sock");
  ASSERT_FALSE(unix);
  EXPECT_NE(unix.status().message().find("unix"), std::string::npos);
  auto tls = parseHttpAddr("https://127.0.0.1:8501");
  ASSERT_FALSE(tls);
  EXPECT_NE(tls.status().message().find("HTTPS"), std::string::npos);
  EXPECT_FALSE(parseHttpAddr("127.0.0.1:"));
  EXPECT_FALSE(parseHttpAddr("127.0.0.1:99999"));
  EXPECT_FALSE(parseHttpAddr("127.0.0.1:80a"));
  EXPECT_FALSE(parseHttpAddr(":8500"));
  EXPECT_FALSE(parseHttpAddr("::1:8500"));
  EXPECT_FALSE(parseHttpAddr("ftp://x:1"));
}

TEST(HttpAddrTest, FlagThenTrellisThenConsulThenDefault) {
  HttpFlags flags;
  Env env;
  EXPECT_EQ(resolveHttpAddr(flags, env), "127.0.0.1:8500");
  env["CONSUL_HTTP_ADDR"] = "10.0.0.1:1";
  EXPECT_EQ(resolveHttpAddr(flags, env), "10.0.0.1:1");
  env["TRELLIS_HTTP_ADDR"] = "10.0.0.2:2";
  EXPECT_EQ(resolveHttpAddr(flags, env), "10.0.0.2:2");
  flags.httpAddr = "10.0.0.3:3";
  EXPECT_EQ(resolveHttpAddr(flags, env), "10.0.0.3:3");
}

TEST(TokenTest, FlagThenEnvironment) {
  HttpFlags flags;
  Env env{{"CONSUL_HTTP_TOKEN", "consul"}};
  EXPECT_EQ(*resolveToken(flags, env), "consul");
  env["TRELLIS_HTTP_TOKEN"] = "trellis";
  EXPECT_EQ(*resolveToken(flags, env), "trellis");
  flags.token = "flag";
  EXPECT_EQ(*resolveToken(flags, env), "flag");
  HttpFlags missingFile;
  missingFile.tokenFile = "/nonexistent/token";
  EXPECT_FALSE(resolveToken(missingFile, env));
}

TEST(ResponseTest, HeaderLookupIsCaseInsensitiveAndIndexParses) {
  http::HttpResponse r;
  r.status = 500;
  r.body = "boom\n";
  r.headers = {{"x-consul-index", "42"}};
  ASSERT_NE(r.header("X-Consul-Index"), nullptr);
  EXPECT_EQ(consulIndex(r), 42u);
  EXPECT_EQ(unexpectedResponse(r), "Unexpected response code: 500 (boom)");
  r.headers = {{"X-Consul-Index", "4x"}};
  EXPECT_EQ(consulIndex(r), 0u);
  EXPECT_EQ(r.header("Content-Type"), nullptr);
}

}  // namespace
}  // namespace trellis::cli
