#include "cli/api_client.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace trellis::cli {
namespace {

std::string trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::string envOr(const Env& env, const char* name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument("Error loading token file: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return trim(ss.str());
}

}  // namespace

void HttpFlags::registerWith(FlagSet& flags) {
  flags.addString("http-addr", &httpAddr,
                  "The `address` and port of the Trellis HTTP agent. Can also be set with "
                  "TRELLIS_HTTP_ADDR or CONSUL_HTTP_ADDR. Default 127.0.0.1:8500.");
  flags.addString("token", &token,
                  "ACL token to use in the request (X-Consul-Token). Can also be set with "
                  "TRELLIS_HTTP_TOKEN or CONSUL_HTTP_TOKEN.");
  flags.addString("token-file", &tokenFile, "File containing the ACL token to use.");
  flags.addString("datacenter", &datacenter,
                  "Name of the datacenter to query. Defaults to the agent's datacenter.");
  flags.addBool("stale", &stale,
                "Permit any server to answer the request, not only the leader (reads only).");
}

Result<AgentAddress> parseHttpAddr(std::string_view text) {
  std::string s = trim(text);
  if (s.rfind("unix://", 0) == 0) {
    return invalidArgument("unix socket addresses are not supported by the trellis CLI yet: " + s);
  }
  if (s.rfind("https://", 0) == 0) {
    return invalidArgument("HTTPS is not supported by the trellis CLI yet: " + s);
  }
  if (s.rfind("http://", 0) == 0) {
    s.erase(0, 7);
  } else if (s.find("://") != std::string::npos) {
    return invalidArgument("unsupported address scheme: " + s);
  }
  AgentAddress out;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    out.pathPrefix = s.substr(slash);
    while (!out.pathPrefix.empty() && out.pathPrefix.back() == '/') out.pathPrefix.pop_back();
    s.resize(slash);
  }
  std::string portText;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos) return invalidArgument("invalid address: " + std::string(text));
    out.endpoint.host = s.substr(1, close - 1);
    std::string rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return invalidArgument("invalid address: " + std::string(text));
      portText = rest.substr(1);
    }
  } else if (auto colon = s.rfind(':'); colon != std::string::npos) {
    if (s.find(':') != colon) {
      return invalidArgument("invalid address (IPv6 needs brackets): " + std::string(text));
    }
    out.endpoint.host = s.substr(0, colon);
    portText = s.substr(colon + 1);
  } else {
    out.endpoint.host = s;
  }
  if (out.endpoint.host.empty()) return invalidArgument("missing host in address: " + s);
  out.endpoint.port = 80;
  if (!portText.empty() || s.find(':') != std::string::npos) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || end != portText.data() + portText.size() || port == 0 ||
        port > 65535) {
      return invalidArgument("invalid port in address: " + std::string(text));
    }
    out.endpoint.port = static_cast<uint16_t>(port);
  }
  return out;
}

std::string resolveHttpAddr(const HttpFlags& flags, const Env& env) {
  if (!flags.httpAddr.empty()) return flags.httpAddr;
  for (const char* name : {"TRELLIS_HTTP_ADDR", "CONSUL_HTTP_ADDR"}) {
    if (auto v = envOr(env, name); !v.empty()) return v;
  }
  return std::string(kDefaultHttpAddr);
}

Result<std::string> resolveToken(const HttpFlags& flags, const Env& env) {
  if (!flags.token.empty()) return flags.token;
  if (!flags.tokenFile.empty()) return readTokenFile(flags.tokenFile);
  for (const char* name : {"TRELLIS_HTTP_TOKEN", "CONSUL_HTTP_TOKEN"}) {
    if (auto v = envOr(env, name); !v.empty()) return v;
  }
  for (const char* name : {"TRELLIS_HTTP_TOKEN_FILE", "CONSUL_HTTP_TOKEN_FILE"}) {
    if (auto v = envOr(env, name); !v.empty()) return readTokenFile(v);
  }
  return std::string();
}

Result<ApiClient> ApiClient::create(const HttpFlags& flags, const Env& env) {
  auto addr = parseHttpAddr(resolveHttpAddr(flags, env));
  if (!addr) return addr.status();
  auto token = resolveToken(flags, env);
  if (!token) return token.status();
  return ApiClient(std::move(*addr), std::move(*token), flags.datacenter, flags.stale);
}

Result<http::HttpResponse> ApiClient::send(const ApiCall& call) const {
  Query query = call.query;
  if (!datacenter_.empty()) query.add("dc", datacenter_);
  if (stale_ && call.read) query.add("stale");
  http::HeaderList headers;
  if (!token_.empty()) headers.emplace_back("X-Consul-Token", token_);
  if (!call.body.empty()) headers.emplace_back("Content-Type", "application/json");
  http::RequestOptions options;
  options.timeout = call.timeout;
  options.cancelled = call.cancelled;
  return http::request(address_.endpoint, call.method,
                       buildTarget(address_.pathPrefix + call.path, query), call.body, headers,
                       options);
}

Result<http::HttpResponse> ApiClient::blockingGet(ApiCall call, uint64_t index,
                                                  std::chrono::milliseconds wait) const {
  if (index > 0) {
    call.query.add("index", std::to_string(index));
    call.query.add("wait", std::to_string(wait.count()) + "ms");
    // The server may add up to wait/16 of jitter; leave room for it and for the transfer.
    call.timeout = wait + wait / 8 + std::chrono::seconds(5);
  }
  return send(call);
}

std::string unexpectedResponse(const http::HttpResponse& r) {
  return "Unexpected response code: " + std::to_string(r.status) + " (" + trim(r.body) + ")";
}

uint64_t consulIndex(const http::HttpResponse& r) {
  const std::string* v = r.header("X-Consul-Index");
  if (v == nullptr) return 0;
  uint64_t idx = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), idx);
  if (ec != std::errc() || end != v->data() + v->size()) return 0;
  return idx;
}

}  // namespace trellis::cli
