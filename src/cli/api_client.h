#pragma once
// The CLI's view of the agent: Consul's common HTTP flags (-http-addr, -token, -datacenter,
// -stale), how the agent address is found, and a thin client that adds the token header and
// the dc/stale parameters to every call. Non-2xx answers are returned, not turned into errors:
// commands decide (a KV get treats 404 as "no key"). describeFailure() gives the Go client's
// wording for everything else.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "cli/flags.h"
#include "cli/url.h"
#include "common/status.h"
#include "http/blocking_client.h"

namespace trellis::cli {

using Env = std::map<std::string, std::string>;

inline constexpr std::string_view kDefaultHttpAddr = "127.0.0.1:8500";

struct HttpFlags {
  std::string httpAddr;
  std::string token;
  std::string tokenFile;
  std::string datacenter;
  bool stale = false;

  void registerWith(FlagSet& flags);
};

struct AgentAddress {
  http::Endpoint endpoint;
  std::string pathPrefix;  // "" or "/prefix" for agents behind a reverse proxy
};

// Accepts "host:port", "http://host:port[/prefix]", "[::1]:8500"; the port defaults to 80 like
// Go's net/http. https:// and unix:// are rejected with a reason (not supported yet).
Result<AgentAddress> parseHttpAddr(std::string_view text);

// The flag wins, then TRELLIS_HTTP_ADDR, then CONSUL_HTTP_ADDR, then 127.0.0.1:8500.
std::string resolveHttpAddr(const HttpFlags& flags, const Env& env);
// -token, -token-file, TRELLIS_HTTP_TOKEN, CONSUL_HTTP_TOKEN, then the *_TOKEN_FILE variables.
Result<std::string> resolveToken(const HttpFlags& flags, const Env& env);

struct ApiCall {
  std::string method = "GET";
  std::string path;  // already encoded, e.g. "/v1/kv/" + encodePath(key)
  Query query;
  std::string body;
  bool read = true;  // reads honour -stale
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::function<bool()> cancelled;
};

class ApiClient {
 public:
  static Result<ApiClient> create(const HttpFlags& flags, const Env& env);

  Result<http::HttpResponse> send(const ApiCall& call) const;
  // Convenience for a blocking query: adds index/wait and extends the timeout past the wait.
  Result<http::HttpResponse> blockingGet(ApiCall call, uint64_t index,
                                         std::chrono::milliseconds wait) const;

  const AgentAddress& address() const { return address_; }

 private:
  ApiClient(AgentAddress address, std::string token, std::string datacenter, bool stale)
      : address_(std::move(address)),
        token_(std::move(token)),
        datacenter_(std::move(datacenter)),
        stale_(stale) {}

  AgentAddress address_;
  std::string token_;
  std::string datacenter_;
  bool stale_;
};

inline bool isSuccess(const http::HttpResponse& r) { return r.status >= 200 && r.status < 300; }

// "Unexpected response code: 500 (body)" for an HTTP answer.
std::string unexpectedResponse(const http::HttpResponse& r);

// X-Consul-Index, or 0 when absent or malformed.
uint64_t consulIndex(const http::HttpResponse& r);

}  // namespace trellis::cli
