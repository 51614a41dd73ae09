#include <utility>  // Boost 1.74's awaitable.hpp needs std::exchange

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <list>
#include <map>

#include "agent/checks/runner.h"
#include "agent/checks/test_util.h"

namespace trellis::agent::checks {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using std::chrono::milliseconds;
using testing::runOnce;

struct Seen {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-case names, repeated values joined ","
};

std::string respond(const Seen& req) {
  auto reply = [](int code, const std::string& reason, const std::string& body,
                  const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(code) + " " + reason +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "Connection: close\r\n\r\n" + body;
  };
  if (req.target == "/ok") return reply(200, "OK", "all good");
  if (req.target == "/busy") return reply(429, "Too Many Requests", "slow down");
  if (req.target == "/fail") return reply(500, "Internal Server Error", "boom");
  if (req.target == "/redirect") return reply(302, "Found", "", "Location: /ok\r\n");
  if (req.target == "/loop") return reply(302, "Found", "", "Location: loop\r\n");
  if (req.target == "/echo") return reply(201, "Created", req.method + ":" + req.body);
  if (req.target == "/big") {
    std::string body;
    for (int i = 0; i < 20000; ++i) body += static_cast<char>('a' + i % 26);
    return reply(200, "OK", body);
  }
  return reply(404, "Not Found", "no such path");
}

// A tiny HTTP/1.1 server, optionally behind TLS: one request per connection; "/hang" never
// gets an answer. Records the last request it parsed.
class TestServer {
 public:
  explicit TestServer(asio::io_context& io, ssl::context* tls = nullptr)
      : io_(io), tls_(tls), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, accept(), asio::detached);
  }
  ~TestServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& s : parked_) s.close(ec);
  }
  std::string url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  Seen last;
  int requests = 0;

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      parked_.push_back(std::move(s));
      asio::co_spawn(io_, serve(parked_.back()), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket& sock) {
    boost::system::error_code ec;
    if (!tls_) co_return co_await handle(sock);
    ssl::stream<tcp::socket&> stream(sock, *tls_);
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await handle(stream);
  }

  template <typename Stream>
  asio::awaitable<void> handle(Stream& stream) {
    boost::system::error_code ec;
    std::string buf;
    size_t n = co_await asio::async_read_until(stream, asio::dynamic_buffer(buf), "\r\n\r\n",
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    Seen req;
    std::string head = buf.substr(0, n);
    size_t eol = head.find("\r\n");
    std::string line = head.substr(0, eol);
    req.method = line.substr(0, line.find(' '));
    req.target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
    for (size_t pos = eol + 2; pos < head.size();) {
      size_t end = head.find("\r\n", pos);
      if (end == pos) break;
      std::string h = head.substr(pos, end - pos);
      std::string name = h.substr(0, h.find(':'));
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      std::string value = h.substr(h.find(':') + 2);
      auto& slot = req.headers[name];
      slot = slot.empty() ? value : slot + "," + value;
      pos = end + 2;
    }
    buf.erase(0, n);
    size_t length =
        req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    if (buf.size() < length) {
      co_await asio::async_read(stream, asio::dynamic_buffer(buf),
                                asio::transfer_exactly(length - buf.size()),
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    req.body = buf.substr(0, length);
    last = req;
    ++requests;
    if (req.target == "/hang") co_return;  // the socket stays parked, open and silent
    co_await asio::async_write(stream, asio::buffer(respond(req)),
                               asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::io_context& io_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  std::list<tcp::socket> parked_;
};

CheckSpec httpSpec(const std::string& url) {
  CheckSpec spec;
  spec.check_id = "http";
  spec.kind = "http";
  spec.http = url;
  spec.timeout = std::chrono::seconds(2);
  return spec;
}

TEST(HttpCheckTest, StatusCodesMapToStatus) {
  asio::io_context io;
  TestServer server(io);
  CheckResult ok = runOnce(io, httpSpec(server.url("/ok")));
  EXPECT_EQ(ok.status, kPassing);
  EXPECT_EQ(ok.output, "HTTP GET " + server.url("/ok") + ": 200 OK Output: all good");
  CheckResult busy = runOnce(io, httpSpec(server.url("/busy")));
  EXPECT_EQ(busy.status, kWarning);
  EXPECT_EQ(busy.output,
            "HTTP GET " + server.url("/busy") + ": 429 Too Many Requests Output: slow down");
  CheckResult fail = runOnce(io, httpSpec(server.url("/fail")));
  EXPECT_EQ(fail.status, kCritical);
  EXPECT_EQ(fail.output,
            "HTTP GET " + server.url("/fail") + ": 500 Internal Server Error Output: boom");
}

TEST(HttpCheckTest, SendsConsulDefaultsAndCustomRequest) {
  asio::io_context io;
  TestServer server(io);
  runOnce(io, httpSpec(server.url("/ok")));
  EXPECT_EQ(server.last.method, "GET");
  EXPECT_EQ(server.last.headers["user-agent"], "Consul Health Check");
  EXPECT_EQ(server.last.headers["accept"], "text/plain, text/*, */*");
  EXPECT_EQ(server.last.headers["host"], server.url("").substr(7));

  CheckSpec spec = httpSpec(server.url("/echo"));
  spec.method = "POST";
  spec.body = "{\"ping\":1}";
  spec.header = {{"X-Multi", {"a", "b"}}, {"User-Agent", {"probe/1"}}, {"Host", {"svc.local"}}};
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kPassing);
  EXPECT_EQ(r.output, "HTTP POST " + spec.http + ": 201 Created Output: POST:{\"ping\":1}");
  EXPECT_EQ(server.last.headers["x-multi"], "a,b");
  EXPECT_EQ(server.last.headers["user-agent"], "probe/1");
  EXPECT_EQ(server.last.headers["host"], "svc.local");
  EXPECT_EQ(server.last.headers["content-length"], "10");
}

TEST(HttpCheckTest, HangingServerTimesOut) {
  asio::io_context io;
  TestServer server(io);
  CheckSpec spec = httpSpec(server.url("/hang"));
  spec.timeout = milliseconds(200);
  auto t0 = std::chrono::steady_clock::now();
  CheckResult r = runOnce(io, spec);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(800));
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "Get \"" + spec.http +
                          "\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                          "headers)");
}

TEST(HttpCheckTest, ConnectionRefusedIsCritical) {
  asio::io_context io;
  uint16_t port;
  {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  std::string hostport = "127.0.0.1:" + std::to_string(port);
  CheckResult r = runOnce(io, httpSpec("http://" + hostport + "/"));
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "Get \"http://" + hostport + "/\": dial tcp " + hostport +
                          ": connect: connection refused");
}

TEST(HttpCheckTest, RedirectsAreFollowedUnlessDisabled) {
  asio::io_context io;
  TestServer server(io);
  CheckSpec spec = httpSpec(server.url("/redirect"));
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kPassing);
  EXPECT_EQ(r.output, "HTTP GET " + spec.http + ": 200 OK Output: all good");
  EXPECT_EQ(server.last.target, "/ok");

  spec.disable_redirects = true;
  r = runOnce(io, spec);
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "HTTP GET " + spec.http + ": 302 Found Output: ");

  int before = server.requests;
  r = runOnce(io, httpSpec(server.url("/loop")));
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "Get \"" + server.url("/loop") + "\": stopped after 10 redirects");
  EXPECT_EQ(server.requests - before, 11);
}

TEST(HttpCheckTest, BodyIsCappedToItsTail) {
  asio::io_context io;
  TestServer server(io);
  CheckSpec spec = httpSpec(server.url("/big"));
  spec.output_max_size = 5;
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kPassing);
  std::string tail;
  for (int i = 19995; i < 20000; ++i) tail += static_cast<char>('a' + i % 26);
  EXPECT_EQ(r.output, "HTTP GET " + spec.http + ": 200 OK Output: " + tail);
}

TEST(HttpCheckTest, StopDuringRequestSuppressesResult) {
  asio::io_context io;
  TestServer server(io);
  CheckSpec spec = httpSpec(server.url("/hang"));
  spec.timeout = milliseconds(150);
  testing::Collector c;
  RunnerOptions options;
  options.max_stagger = milliseconds(0);
  auto runner = makeRunner(io, spec, c.fn(), options);
  runner->start();
  ASSERT_TRUE(testing::runUntil(io, [&] { return server.requests == 1; }));
  runner->stop();
  testing::runFor(io, milliseconds(300));  // past the timeout
  EXPECT_TRUE(c.results.empty());
}

TEST(HttpCheckTest, BadUrlIsCritical) {
  asio::io_context io;
  CheckResult r = runOnce(io, httpSpec("ftp://127.0.0.1/"));
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "Get \"ftp://127.0.0.1/\": unsupported protocol scheme \"ftp\"");
}

// A throwaway self-signed certificate for 127.0.0.1.
void useSelfSignedCert(ssl::context& ctx) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx.native_handle(), cert);
  SSL_CTX_use_PrivateKey(ctx.native_handle(), key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST(HttpCheckTest, HttpsHonoursSkipVerify) {
  asio::io_context io;
  ssl::context tls(ssl::context::tls_server);
  useSelfSignedCert(tls);
  TestServer server(io, &tls);
  CheckSpec spec = httpSpec(server.url("/ok"));
  spec.tls_skip_verify = true;
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kPassing) << r.output;
  EXPECT_EQ(r.output, "HTTP GET " + spec.http + ": 200 OK Output: all good");

  spec.tls_skip_verify = false;
  r = runOnce(io, spec);
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output.rfind("Get \"" + spec.http + "\": tls: ", 0), 0u) << r.output;
}

}  // namespace
}  // namespace trellis::agent::checks
