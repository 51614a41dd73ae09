#pragma once
// Routing: an explicit table of (path, exact or prefix, methods, handler), built in src/bin.
// Unknown paths get Consul's 404 text, wrong methods 405 with an Allow header, OPTIONS 200.

#include <string>
#include <vector>

#include "api/context.h"

namespace trellis::api {

// `rest` is the part of the decoded path after the route's prefix (a KV key, a service name...).
using RouteFn = std::function<boost::asio::awaitable<Response>(Context&, Exchange&, std::string)>;

struct Route {
  std::string path;  // "/v1/kv/" (prefix) or "/v1/agent/self" (exact)
  bool prefix;
  std::vector<std::string> methods;
  RouteFn fn;
};

class Router {
 public:
  Router(Context& ctx, std::vector<Route> routes);
  boost::asio::awaitable<Response> handle(Exchange& ex);

 private:
  Context& ctx_;
  std::vector<Route> routes_;
};

}  // namespace trellis::api
