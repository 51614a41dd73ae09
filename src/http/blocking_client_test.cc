#include "http/blocking_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

namespace trellis::http {
namespace {

// A listener that accepts (through the kernel backlog) but never answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
  }
  ~SilentListener() { ::close(fd_); }
  Endpoint endpoint() const { return {"127.0.0.1", port_}; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(BlockingClientTest, TimesOutWhenNoAnswerComes) {
  SilentListener server;
  RequestOptions options;
  options.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto res = request(server.endpoint(), "GET", "/v1/kv/x", "", {}, options);
  ASSERT_FALSE(res);
  EXPECT_NE(res.status().message().find("timed out"), std::string::npos);
  EXPECT_FALSE(isCancelled(res.status()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(BlockingClientTest, CancelPredicateInterruptsALongPoll) {
  SilentListener server;
  std::atomic<int> polls{0};
  RequestOptions options;
  options.timeout = std::chrono::minutes(5);
  options.cancelled = [&polls] { return ++polls > 3; };
  auto res = request(server.endpoint(), "GET", "/v1/kv/x?index=5", "", {}, options);
  ASSERT_FALSE(res);
  EXPECT_TRUE(isCancelled(res.status()));
}

TEST(BlockingClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port;
  {
    SilentListener probe;
    port = probe.endpoint().port;
  }
  auto res = request({"127.0.0.1", port}, "GET", "/", "", {});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.status().code(), Code::kUnavailable);
  EXPECT_NE(res.status().message().find("refused"), std::string::npos);
  EXPECT_FALSE(request({"127.0.0.1", port}, "BREW", "/", "", {}));
}

TEST(BlockingClientTest, HeaderLookupIgnoresCase) {
  HttpResponse r;
  r.headers = {{"Content-Type", "application/json"}, {"X-Consul-Index", "3"}};
  ASSERT_NE(r.header("x-consul-index"), nullptr);
  EXPECT_EQ(*r.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(r.header("X-Consul-Index-Extra"), nullptr);
}

}  // namespace
}  // namespace trellis::http
