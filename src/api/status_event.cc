// /v1/status/* (leader, peers) and /v1/event/* (fire, list). Events live in a 256-entry ring on
// this agent; the list's pseudo-index is derived from the newest event's UUID as Consul does.
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "common/base64.h"
#include "common/uuid.h"
#include "http/park.h"

namespace trellis::api {

namespace asio = boost::asio;

namespace {

// XOR of the two 64-bit halves of the UUID's hex digits.
uint64_t eventIndex(const std::string& uuid) {
  if (uuid.size() != 36) return 0;
  std::string hex;
  for (char c : uuid) {
    if (c != '-') hex.push_back(c);
  }
  uint64_t lower = std::stoull(hex.substr(0, 16), nullptr, 16);
  uint64_t upper = std::stoull(hex.substr(16, 16), nullptr, 16);
  return lower ^ upper;
}

Json renderEvent(const UserEvent& e) {
  Json j;
  j["ID"] = e.id;
  j["Name"] = e.name;
  j["Payload"] = e.payload.empty() ? Json(nullptr) : Json(base64Encode(e.payload));
  j["NodeFilter"] = e.node_filter;
  j["ServiceFilter"] = e.service_filter;
  j["TagFilter"] = e.tag_filter;
  j["Version"] = 1;
  j["LTime"] = e.ltime;
  return j;
}

const char* kEventTopic = "t:events";

}  // namespace

asio::awaitable<Response> statusLeader(Context& ctx, Exchange& ex, std::string) {
  co_return jsonResponse(ctx, ex, ctx.writer.log().knownLeader() ? ctx.config.server_address : "");
}

asio::awaitable<Response> statusPeers(Context& ctx, Exchange& ex, std::string) {
  co_return jsonResponse(ctx, ex, Json::array({ctx.config.server_address}));
}

asio::awaitable<Response> eventFire(Context& ctx, Exchange& ex, std::string name) {
  if (name.empty()) co_return Response::text(400, "Missing name");
  const auto& req = ex.request;
  if (name.size() + req.body.size() > 512) {
    co_return Response::text(400, "User event exceeds sane size limit: payload and name must "
                                  "be at most 512 bytes together");
  }
  UserEvent e;
  e.id = newUuid();
  e.name = name;
  e.payload = req.body;
  e.node_filter = req.param("node").value_or("");
  e.service_filter = req.param("service").value_or("");
  e.tag_filter = req.param("tag").value_or("");
  e.ltime = ++ctx.event_ltime;
  ctx.events.push_back(e);
  if (ctx.events.size() > 256) ctx.events.pop_front();
  ctx.store.watches().fire(kEventTopic);
  co_return jsonResponse(ctx, ex, renderEvent(e));
}

asio::awaitable<Response> eventList(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  auto name = ex.request.param("name");
  auto current = [&] { return ctx.events.empty() ? 0 : eventIndex(ctx.events.back().id); };
  if (opts->index != 0 && current() == opts->index) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(opts->wait);
    http::Parker parker(co_await asio::this_coro::executor, ex);
    state::Waiter waiter([&parker] { parker.wake(); });
    while (current() == opts->index) {
      ctx.store.watches().watch(waiter, kEventTopic);
      bool woke = co_await parker.wait(deadline);
      waiter.cancel();
      if (ex.clientGone()) co_return Response::text(499, "client closed request");
      if (!woke) break;
    }
  }
  Json out = Json::array();
  for (const auto& e : ctx.events) {
    if (!name || e.name == *name) out.push_back(renderEvent(e));
  }
  applyFilter(*opts, out);
  Response r = jsonResponse(ctx, ex, out);
  uint64_t idx = current();
  r.set("X-Consul-Index", std::to_string(idx == 0 ? 1 : idx));
  co_return r;
}

}  // namespace trellis::api
