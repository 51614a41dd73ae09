#include "agent/checks/url.h"

#include <gtest/gtest.h>

#include "agent/checks/dial.h"

namespace trellis::agent::checks {
namespace {

TEST(UrlTest, ParsesHttpAndHttps) {
  auto u = parseUrl("http://127.0.0.1:8080/health?x=1#frag");
  ASSERT_TRUE(u.isOk());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->authority, "127.0.0.1:8080");
  EXPECT_EQ(u->target, "/health?x=1");

  auto s = parseUrl("HTTPS://example.com");
  ASSERT_TRUE(s.isOk());
  EXPECT_TRUE(s->tls);
  EXPECT_EQ(s->port, "443");
  EXPECT_EQ(s->target, "/");

  auto v6 = parseUrl("http://[::1]:9/a");
  ASSERT_TRUE(v6.isOk());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "9");
  EXPECT_EQ(v6->authority, "[::1]:9");

  auto q = parseUrl("http://h?x");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->target, "/?x");
  EXPECT_EQ(q->port, "80");
}

TEST(UrlTest, RejectsBadUrls) {
  EXPECT_EQ(parseUrl("ftp://x/").status().message(), "unsupported protocol scheme \"ftp\"");
  EXPECT_FALSE(parseUrl("localhost:80/health").isOk());
  EXPECT_FALSE(parseUrl("http:///path").isOk());
  EXPECT_FALSE(parseUrl("http://h:8o/").isOk());
  EXPECT_FALSE(parseUrl("http://[::1/").isOk());
}

TEST(UrlTest, ResolvesLocations) {
  auto base = parseUrl("http://h:1/a/b?q=1");
  ASSERT_TRUE(base.isOk());
  EXPECT_EQ(resolveLocation(*base, "https://o/x")->text, "https://o/x");
  EXPECT_EQ(resolveLocation(*base, "//o:2/x")->text, "http://o:2/x");
  EXPECT_EQ(resolveLocation(*base, "/ok")->text, "http://h:1/ok");
  EXPECT_EQ(resolveLocation(*base, "c")->text, "http://h:1/a/c");
  EXPECT_EQ(resolveLocation(*base, "?z")->text, "http://h:1/a/b?z");
}

TEST(DialTest, SplitHostPortLikeGo) {
  auto a = splitHostPort("127.0.0.1:80");
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "80");
  auto b = splitHostPort("[::1]:443");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(splitHostPort("nope").status().message(), "address nope: missing port in address");
  EXPECT_EQ(splitHostPort("::1:80").status().message(),
            "address ::1:80: too many colons in address");
  EXPECT_EQ(joinHostPort("::1", "80"), "[::1]:80");
}

}  // namespace
}  // namespace trellis::agent::checks
