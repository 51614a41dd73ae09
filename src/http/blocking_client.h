#pragma once
// A small synchronous HTTP/1.1 client for callers that have no event loop: the CLI, and tests
// that poke an HTTP API. One TCP connection per request, closed afterwards.
//
// Threading: request() is reentrant; each call owns a private io_context, so several threads may
// issue requests at once. A request blocks the calling thread until the response is read, the
// timeout passes, or the `cancelled` predicate (polled about every 50 ms from the calling
// thread) returns true; that makes long polls interruptible by a signal flag.
//
// Beast stays inside blocking_client.cc: it compiles slowly and nobody else should pay for it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace trellis::http {

struct Endpoint {
  std::string host;  // name or IP literal (IPv6 without brackets)
  uint16_t port = 0;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  HeaderList headers;
  std::string body;

  // Case-insensitive lookup of the first header with this name; nullptr when absent.
  const std::string* header(std::string_view name) const;
};

struct RequestOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::function<bool()> cancelled;  // optional
  size_t maxBodyBytes = 64 * 1024 * 1024;
};

// Errors: kUnavailable for connect/resolve failures (message names the address and reason),
// kInternal for I/O or protocol errors, timeouts ("timed out") and cancellation ("cancelled").
// Any HTTP status, 4xx/5xx included, is a successful Result: the caller interprets it.
Result<HttpResponse> request(const Endpoint& endpoint, std::string_view method,
                             std::string_view target, std::string_view body,
                             const HeaderList& headers, const RequestOptions& options = {});

// True when a failed request() ended because RequestOptions::cancelled returned true.
bool isCancelled(const Status& status);

}  // namespace trellis::http
