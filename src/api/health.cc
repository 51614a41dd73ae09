// /v1/health/*: ServiceEntry lists (node + service + checks) and check lists by service, node or
// state.
#include "api/catalog_read.h"
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"

namespace trellis::api {

namespace asio = boost::asio;

namespace {

std::vector<const pb::Service*> servicesNamed(const Context& ctx, const std::string& name) {
  return ctx.store.servicesByName(name);
}

// /v1/health/service/:s and /v1/health/connect/:s differ only in which instances they list.
asio::awaitable<Response> healthInstances(
    Context& ctx, Exchange& ex, const std::string& name,
    std::vector<const pb::Service*> (*instances)(const Context&, const std::string&)) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  auto passing = boolParam(ex.request, "passing");
  if (!passing) co_return errorResponse(passing.status());
  bool only_passing = *passing;
  co_return co_await blockingJson(ctx, ex, *opts, catalogTopics(), [&](Json& out) {
    out = Json::array();
    for (const pb::Service* svc : instances(ctx, name)) {
      const pb::Node* n = ctx.store.node(svc->node());
      if (n == nullptr || !tagsMatch(ex.request, *svc) || !nodeMetaMatches(ex.request, *n)) continue;
      Json entry = renderServiceEntry(ctx, *n, *svc);
      if (only_passing) {
        bool all = true;
        for (const auto& c : entry["Checks"]) all = all && c["Status"] == "passing";
        if (!all) continue;
      }
      out.push_back(std::move(entry));
    }
    return catalogIndex(ctx);
  });
}

}  // namespace

asio::awaitable<Response> healthService(Context& ctx, Exchange& ex, std::string name) {
  co_return co_await healthInstances(ctx, ex, name, servicesNamed);
}

asio::awaitable<Response> healthConnect(Context& ctx, Exchange& ex, std::string name) {
  co_return co_await healthInstances(ctx, ex, name, connectInstances);
}

asio::awaitable<Response> healthChecks(Context& ctx, Exchange& ex, std::string name) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(ctx, ex, *opts, catalogTopics(), [&](Json& out) {
    out = Json::array();
    for (const pb::Check* c : ctx.store.checksOfService(name)) {
      const pb::Node* n = ctx.store.node(c->node());
      if (n != nullptr && nodeMetaMatches(ex.request, *n)) out.push_back(model::renderCheck(*c));
    }
    return catalogIndex(ctx);
  });
}

asio::awaitable<Response> healthNode(Context& ctx, Exchange& ex, std::string node) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(ctx, ex, *opts, catalogTopics(), [&](Json& out) {
    out = Json::array();
    for (const pb::Check* c : ctx.store.nodeChecks(node)) out.push_back(model::renderCheck(*c));
    return catalogIndex(ctx);
  });
}

asio::awaitable<Response> healthState(Context& ctx, Exchange& ex, std::string state_name) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  if (state_name != "any" && state_name != "passing" && state_name != "warning" &&
      state_name != "critical") {
    co_return Response::text(400, "Invalid state: " + state_name);
  }
  co_return co_await blockingJson(ctx, ex, *opts, catalogTopics(), [&](Json& out) {
    out = Json::array();
    for (const auto& [key, c] : ctx.store.checks()) {
      if (state_name != "any" && c.status() != state_name) continue;
      const pb::Node* n = ctx.store.node(c.node());
      if (n != nullptr && nodeMetaMatches(ex.request, *n)) out.push_back(model::renderCheck(c));
    }
    return catalogIndex(ctx);
  });
}

}  // namespace trellis::api
