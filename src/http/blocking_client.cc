#include "http/blocking_client.h"

#include <strings.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace trellis::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kCancelled = "cancelled";
constexpr auto kPollSlice = std::chrono::milliseconds(50);

std::string describe(const Endpoint& ep) {
  if (ep.host.find(':') != std::string::npos) {
    return "[" + ep.host + "]:" + std::to_string(ep.port);
  }
  return ep.host + ":" + std::to_string(ep.port);
}

// Drives one request through connect, write and read on a private io_context, so that the
// caller's thread can poll the deadline and the cancel predicate between slices.
class Exchange {
 public:
  Exchange(const Endpoint& ep, bhttp::request<bhttp::string_body> req, size_t maxBody)
      : endpoint_(ep), socket_(ioc_), req_(std::move(req)) {
    parser_.body_limit(maxBody);
    parser_.header_limit(1024 * 1024);
  }

  Result<HttpResponse> run(const RequestOptions& opts) {
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), ec);
    if (ec) {
      return Status(Code::kUnavailable, "resolve " + describe(endpoint_) + ": " + ec.message());
    }
    asio::async_connect(socket_, results, [this](auto ec, const auto&) { onConnect(ec); });

    const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
    std::optional<std::string> abortReason;
    while (!done_) {
      ioc_.run_for(kPollSlice);
      if (done_) break;
      if (opts.cancelled && opts.cancelled()) {
        abortReason = std::string(kCancelled);
      } else if (std::chrono::steady_clock::now() >= deadline) {
        abortReason = "timed out after " + std::to_string(opts.timeout.count()) + "ms";
      } else if (ioc_.stopped()) {
        abortReason = "internal error: client loop stopped";
      }
      if (abortReason) {
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        socket_.close(ignored);
        ioc_.restart();
        ioc_.run();  // drain the aborted handlers
        return Status(Code::kInternal, *abortReason);
      }
    }
    if (error_) return *error_;

    HttpResponse out;
    auto& res = parser_.get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    return out;
  }

 private:
  void fail(Code code, std::string message) {
    error_ = Status(code, std::move(message));
    done_ = true;
  }

  void onConnect(const boost::system::error_code& ec) {
    if (ec) {
      fail(Code::kUnavailable, "dial tcp " + describe(endpoint_) + ": connect: " + ec.message());
      return;
    }
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    bhttp::async_write(socket_, req_, [this](auto ec, size_t) {
      if (ec) {
        fail(Code::kInternal, "write to " + describe(endpoint_) + ": " + ec.message());
        return;
      }
      bhttp::async_read(socket_, buffer_, parser_, [this](auto ec, size_t) {
        if (ec) {
          fail(Code::kInternal, "read from " + describe(endpoint_) + ": " + ec.message());
          return;
        }
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        done_ = true;
      });
    });
  }

  Endpoint endpoint_;
  asio::io_context ioc_{1};
  tcp::socket socket_;
  bhttp::request<bhttp::string_body> req_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
  bool done_ = false;
  std::optional<Status> error_;
};

}  // namespace

const std::string* HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) {
      return &v;
    }
  }
  return nullptr;
}

bool isCancelled(const Status& status) {
  return status.code() == Code::kInternal && status.message() == kCancelled;
}

Result<HttpResponse> request(const Endpoint& endpoint, std::string_view method,
                             std::string_view target, std::string_view body,
                             const HeaderList& headers, const RequestOptions& options) {
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    return invalidArgument("unknown HTTP method: " + std::string(method));
  }
  bhttp::request<bhttp::string_body> req{verb, std::string(target), 11};
  req.set(bhttp::field::host, describe(endpoint));
  req.set(bhttp::field::user_agent, "trellis");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || verb == bhttp::verb::put || verb == bhttp::verb::post) {
    req.body() = std::string(body);
    req.prepare_payload();
  }
  try {
    Exchange exchange(endpoint, std::move(req), options.maxBodyBytes);
    return exchange.run(options);
  } catch (const std::exception& e) {
    return internalError(std::string("http client: ") + e.what());
  }
}

}  // namespace trellis::http
