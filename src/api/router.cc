#include "api/router.h"

#include "api/respond.h"
#include "common/log.h"

namespace trellis::api {

Router::Router(Context& ctx, std::vector<Route> routes) : ctx_(ctx), routes_(std::move(routes)) {}

namespace {

std::string allowHeader(const Route& r) {
  std::string allow = "OPTIONS";
  for (const auto& m : r.methods) allow += "," + m;
  return allow;
}

}  // namespace

boost::asio::awaitable<Response> Router::handle(Exchange& ex) {
  const http::Request& req = ex.request;
  const Route* match = nullptr;
  for (const auto& r : routes_) {
    bool ok = r.prefix ? req.path.compare(0, r.path.size(), r.path) == 0 : req.path == r.path;
    if (ok && (match == nullptr || r.path.size() > match->path.size())) match = &r;
  }
  Response resp;
  if (match == nullptr) {
    if (req.path == "/") {
      resp = Response::text(200, "Trellis Agent: UI is not available in this version\n");
    } else if (req.path.find("/v1/") != std::string::npos) {
      resp = Response::text(404, "Invalid URL path: not a recognized HTTP API endpoint\n");
    } else {
      resp = Response::text(
          404, "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n");
    }
  } else if (req.method == "OPTIONS") {
    resp.status = 200;
    resp.set("Allow", allowHeader(*match));
  } else {
    bool allowed = false;
    for (const auto& m : match->methods) allowed = allowed || m == req.method;
    // Consul serves HEAD wherever GET is allowed? It does not: only declared methods pass.
    if (!allowed) {
      resp = Response::text(405, "method " + req.method + " not allowed");
      resp.set("Allow", allowHeader(*match));
    } else {
      std::string rest = match->prefix ? req.path.substr(match->path.size()) : std::string();
      resp = co_await match->fn(ctx_, ex, std::move(rest));
    }
  }
  resp.set("X-Consul-Default-ACL-Policy", ctx_.config.acl_default_policy);
  resp.set("Vary", "Accept-Encoding");
  if (resp.status >= 500) {
    TLOG_WARN("http: {} {} -> {}: {}", req.method, req.path, resp.status, resp.body);
  } else {
    TLOG_DEBUG("http: {} {} -> {}", req.method, req.target, resp.status);
  }
  co_return resp;
}

}  // namespace trellis::api
