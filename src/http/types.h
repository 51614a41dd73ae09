#pragma once
// Trellis' own HTTP request/response types. Handlers see only these; Boost.Beast stays inside
// server.cc (it is slow to compile and its types leak everywhere).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::http {

using Header = std::pair<std::string, std::string>;

struct Request {
  std::string method;
  std::string target;     // as received
  std::string path;       // percent-decoded path, without the query
  std::string raw_path;   // path as received (still encoded)
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;

  // Query helpers: has() is presence ("?recurse"), param() the first value.
  bool has(std::string_view key) const;
  std::optional<std::string> param(std::string_view key) const;
  std::vector<std::string> params(std::string_view key) const;
  std::optional<std::string> header(std::string_view name) const;  // case-insensitive
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;

  void set(std::string name, std::string value);
  static Response text(int status, std::string body);
};

// One request in flight, as the server hands it to a handler.
class Exchange {
 public:
  Request request;

  // Registers `cb` to run (once, on the connection's loop) if the client hangs up while the
  // handler is still working; starts watching the socket on first use. Used by parked requests.
  void onClientGone(std::function<void()> cb) {
    if (watch_client_) watch_client_(std::move(cb));
  }
  bool clientGone() const { return client_gone_ && *client_gone_; }

  // Set by the server.
  std::function<void(std::function<void()>)> watch_client_;
  std::shared_ptr<bool> client_gone_;
};

std::string percentDecode(std::string_view s, bool plus_as_space);
std::string percentEncode(std::string_view s, bool keep_slash);
// Splits "a=1&b&c=x%20y" into decoded pairs ("b" gets an empty value).
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view q);

}  // namespace trellis::http
