// HTTP(S) checks. Beast stays in this file.
#include <utility>  // Boost 1.74's awaitable.hpp needs std::exchange

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>

#include "agent/checks/dial.h"
#include "agent/checks/probe.h"
#include "agent/checks/tail_buffer.h"
#include "agent/checks/url.h"

namespace trellis::agent::checks {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

constexpr std::chrono::seconds kDefaultTimeout{10};
constexpr size_t kDefaultOutputMax = 4096;
constexpr int kMaxRedirects = 10;  // Go's http.Client default, which Consul uses
constexpr uint32_t kMaxHeaderBytes = 1 << 20;

bool hasHeader(const CheckSpec& spec, const char* name) {
  for (const auto& [key, values] : spec.header) {
    if (::strcasecmp(key.c_str(), name) == 0 && !values.empty()) return true;
  }
  return false;
}

// Go's url.Error prefix: "GET" -> "Get".
std::string goOp(const std::string& method) {
  std::string op = method;
  for (size_t i = 1; i < op.size(); ++i) {
    op[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[i])));
  }
  return op;
}

bool isRedirect(unsigned code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

// One client context per runner, built on first use: loading the system roots is not free and
// a plain-http check may still be redirected to https.
class TlsContext {
 public:
  ssl::context& get() {
    if (!ctx_) {
      ctx_.emplace(ssl::context::tls_client);
      boost::system::error_code ec;
      ctx_->set_default_verify_paths(ec);  // without system roots only skip-verify can pass
    }
    return *ctx_;
  }

 private:
  std::optional<ssl::context> ctx_;
};

struct Response {
  bool have_headers = false;
  unsigned code = 0;
  std::string status;  // "200 OK" as sent
  std::string location;
  std::string body;
};

class HttpProbe : public Probe {
 public:
  HttpProbe(asio::io_context& io, std::shared_ptr<const CheckSpec> spec, Url url,
            std::shared_ptr<TlsContext> tls)
      : io_(io),
        spec_(std::move(spec)),
        url_(std::move(url)),
        tls_(std::move(tls)),
        resolver_(io),
        socket_(io),
        deadline_(io),
        body_(spec_->output_max_size > 0 ? spec_->output_max_size : kDefaultOutputMax) {}

 protected:
  void begin() override {
    auto self = std::static_pointer_cast<HttpProbe>(shared_from_this());
    deadline_.expires_after(spec_->timeout.count() > 0 ? spec_->timeout : kDefaultTimeout);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->halted_) return;
      self->timed_out_ = true;
      self->halt();
    });
    asio::co_spawn(io_, run(self), [self](std::exception_ptr e) {
      if (e) self->finish({kCritical, "internal error running HTTP check"});
    });
  }

  void abort() override { halt(); }

 private:
  void halt() {
    halted_ = true;
    deadline_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  static asio::awaitable<void> run(std::shared_ptr<HttpProbe> self) {
    const CheckSpec& spec = *self->spec_;
    const std::string method = spec.method.empty() ? "GET" : spec.method;
    std::string verb = method;
    std::string body = spec.body;
    Url url = self->url_;
    for (int redirects = 0;; ++redirects) {
      Response res;
      std::string error = co_await self->fetch(url, verb, body, res);
      if (!self->active()) co_return;  // cancelled
      if (!res.have_headers) {
        if (self->timed_out_) {
          error = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
        }
        self->fail(verb, url, error);
        co_return;
      }
      bool follow = isRedirect(res.code) && !spec.disable_redirects && !res.location.empty();
      if (follow && !self->timed_out_) {
        if (redirects == kMaxRedirects) {
          self->fail(verb, url, "stopped after " + std::to_string(kMaxRedirects) + " redirects");
          co_return;
        }
        Result<Url> next = resolveLocation(url, res.location);
        if (!next) {
          self->fail(verb, url,
                     "failed to parse Location header \"" + res.location +
                         "\": " + next.status().message());
          co_return;
        }
        // Go turns 301/302/303 into a body-less GET (HEAD stays HEAD); 307/308 replay as is.
        if (res.code <= 303 && verb != "HEAD") {
          verb = "GET";
          body.clear();
        }
        url = std::move(*next);
        continue;
      }
      self->halt();
      const char* status = res.code >= 200 && res.code <= 299 ? kPassing
                           : res.code == 429                  ? kWarning
                                                              : kCritical;
      self->finish({status, "HTTP " + method + " " + spec.http + ": " + res.status +
                                " Output: " + res.body});
      co_return;
    }
  }

  void fail(const std::string& verb, const Url& url, const std::string& error) {
    halt();
    finish({kCritical, goOp(verb) + " \"" + url.text + "\": " + error});
  }

  // One request/response on a fresh connection (Consul disables keep-alive for checks).
  asio::awaitable<std::string> fetch(const Url& url, const std::string& verb,
                                     const std::string& body, Response& res) {
    boost::system::error_code ec;
    socket_.close(ec);
    // A named local: GCC 12 double-destroys temporaries bound to coroutine reference parameters.
    const HostPort target{url.host, url.port};
    std::string error = co_await dial(resolver_, socket_, target, halted_);
    if (halted_) co_return "";
    if (!error.empty()) co_return error;
    if (!url.tls) co_return co_await exchange(socket_, url, verb, body, res);
    ssl::stream<tcp::socket&> stream(socket_, tls_->get());
    const std::string& name = spec_->tls_server_name.empty() ? url.host : spec_->tls_server_name;
    asio::ip::make_address(name, ec);
    if (ec) SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());  // no SNI for IPs
    if (spec_->tls_skip_verify) {
      stream.set_verify_mode(ssl::verify_none);
    } else {
      stream.set_verify_mode(ssl::verify_peer);
      stream.set_verify_callback(ssl::host_name_verification(name));
    }
    co_await stream.async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (halted_) co_return "";
    if (ec) co_return "tls: " + errorText(ec);
    co_return co_await exchange(stream, url, verb, body, res);
  }

  template <typename Stream>
  asio::awaitable<std::string> exchange(Stream& stream, const Url& url, const std::string& verb,
                                        const std::string& body, Response& res) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(verb);
    req.target(url.target);
    req.version(11);
    std::string host = url.authority;
    for (const auto& [key, values] : spec_->header) {
      if (::strcasecmp(key.c_str(), "Host") == 0) {
        if (!values.empty()) host = values.front();
        continue;
      }
      for (const std::string& v : values) req.insert(key, v);
    }
    req.set(bhttp::field::host, host);
    if (!hasHeader(*spec_, "User-Agent")) req.set(bhttp::field::user_agent, "Consul Health Check");
    if (!hasHeader(*spec_, "Accept")) req.set(bhttp::field::accept, "text/plain, text/*, */*");
    req.set(bhttp::field::connection, "close");
    req.body() = body;
    if (!body.empty() || verb == "POST" || verb == "PUT" || verb == "PATCH") {
      req.content_length(body.size());
    }

    boost::system::error_code ec;
    co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (halted_) co_return "";
    if (ec) co_return errorText(ec);

    boost::beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    // Not boost::none: Beast 1.74 compares the length against the optional and rejects all.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (verb == "HEAD") parser.skip(true);
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (halted_) co_return "";
    if (ec == bhttp::error::end_of_stream) co_return "EOF";
    if (ec) co_return "malformed HTTP response: " + errorText(ec);

    auto& msg = parser.get();
    res.have_headers = true;
    res.code = msg.result_int();
    res.status = std::to_string(res.code);
    if (!msg.reason().empty()) res.status += " " + std::string(msg.reason());
    if (auto it = msg.find(bhttp::field::location); it != msg.end()) {
      res.location = std::string(it->value());
    }
    if (isRedirect(res.code) && !spec_->disable_redirects && !res.location.empty()) co_return "";

    // Like Go's io.Copy into a circular buffer: read it all, keep the tail, and treat a read
    // error (or the deadline) as the end of the body.
    char chunk[8192];
    while (!parser.is_done()) {
      msg.body().data = chunk;
      msg.body().size = sizeof(chunk);
      co_await bhttp::async_read(stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec == bhttp::error::need_buffer) ec = {};
      body_.append(std::string_view(chunk, sizeof(chunk) - msg.body().size));
      if (ec || halted_) break;
    }
    res.body = body_.str();
    co_return "";
  }

  asio::io_context& io_;
  std::shared_ptr<const CheckSpec> spec_;
  Url url_;
  std::shared_ptr<TlsContext> tls_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  TailBuffer body_;
  bool halted_ = false;
  bool timed_out_ = false;
};

}  // namespace

ProbeFactory makeHttpProbeFactory(asio::io_context& io, std::shared_ptr<const CheckSpec> spec) {
  const std::string method = spec->method.empty() ? "GET" : spec->method;
  Result<Url> url = parseUrl(spec->http);
  if (!url) {
    CheckResult invalid{kCritical,
                        goOp(method) + " \"" + spec->http + "\": " + url.status().message()};
    return [&io, invalid] { return makeFixedProbe(io, invalid); };
  }
  auto tls = std::make_shared<TlsContext>();
  return [&io, spec, u = *url, tls] { return std::make_shared<HttpProbe>(io, spec, u, tls); };
}

}  // namespace trellis::agent::checks
