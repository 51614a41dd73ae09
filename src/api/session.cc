// /v1/session/*: create (with Consul's defaults), destroy, renew, and reads. TTL expiry is a
// leader duty (server/session_timers); invalidation rules live in the state store.
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "common/duration.h"
#include "common/uuid.h"
#include "model/decode.h"

namespace trellis::api {

namespace asio = boost::asio;
using model::Fields;
using model::InJson;

namespace {

Status decodeSession(const Context& ctx, const InJson& body, pb::Session* s) {
  s->set_node(ctx.config.node_name);
  s->add_node_checks("serfHealth");
  s->set_lock_delay_ns(15'000'000'000);
  s->set_behavior("release");
  if (body.is_null()) return Status::ok();
  auto f = Fields::of(body, "Session");
  if (!f) return f.status();
  std::string name, node, behavior, ttl, id;
  Status st;
  if (!(st = f->str("Name", &name)) || !(st = f->str("Node", &node)) ||
      !(st = f->str("Behavior", &behavior)) || !(st = f->str("TTL", &ttl)) ||
      !(st = f->str("ID", &id))) {
    return st;
  }
  // LockDelay: a duration string, or a number (below 1000 it means seconds, else nanoseconds).
  if (const InJson* ld = f->take("LockDelay")) {
    if (ld->is_number()) {
      double v = ld->get<double>();
      s->set_lock_delay_ns(v < 1000 ? static_cast<int64_t>(v * 1e9) : static_cast<int64_t>(v));
    } else if (ld->is_string()) {
      auto d = parseGoDuration(ld->get<std::string>());
      if (!d) return model::decodeError("time: invalid duration \"" + ld->get<std::string>() + "\"");
      s->set_lock_delay_ns(d->count());
    } else {
      return f->typeError("LockDelay", *ld, "time.Duration");
    }
  }
  std::vector<std::string> checks, node_checks;
  const InJson* legacy = f->take("Checks");
  bool has_checks = legacy != nullptr;
  if (legacy != nullptr) {
    if (!legacy->is_array()) return f->typeError("Checks", *legacy, "[]types.CheckID");
    for (const auto& c : *legacy) {
      if (!c.is_string()) return f->typeError("Checks", c, "types.CheckID");
      checks.push_back(c.get<std::string>());
    }
  }
  const InJson* nc = f->take("NodeChecks");
  if (nc != nullptr) {
    if (!nc->is_array()) return f->typeError("NodeChecks", *nc, "[]string");
    for (const auto& c : *nc) {
      if (!c.is_string()) return f->typeError("NodeChecks", c, "string");
      node_checks.push_back(c.get<std::string>());
    }
  }
  if (const InJson* sc = f->take("ServiceChecks")) {
    if (!sc->is_array()) return f->typeError("ServiceChecks", *sc, "[]ServiceCheck");
    for (const auto& c : *sc) {
      auto cf = Fields::of(c, "ServiceCheck");
      if (!cf) return cf.status();
      std::string cid, ns;
      if (!(st = cf->str("ID", &cid)) || !(st = cf->str("Namespace", &ns)) || !(st = cf->finish())) {
        return st;
      }
      auto* out = s->add_service_checks();
      out->set_id(cid);
      out->set_namespace_(ns);
    }
  }
  f->take("Namespace");
  f->take("Partition");
  if (Status fin = f->finish(); !fin) return fin;
  if (has_checks || nc != nullptr) {
    s->clear_node_checks();
    for (const auto& c : has_checks ? checks : node_checks) s->add_node_checks(c);
    if (has_checks && nc != nullptr) {
      for (const auto& c : node_checks) s->add_node_checks(c);
    }
  }
  if (!node.empty()) s->set_node(node);
  s->set_name(name);
  if (!behavior.empty()) {
    if (behavior != "release" && behavior != "delete") {
      return invalidArgument("Invalid Behavior setting '" + behavior + "'");
    }
    s->set_behavior(behavior);
  }
  if (!ttl.empty()) {
    auto d = parseGoDuration(ttl);
    if (!d) return invalidArgument("Session TTL '" + ttl + "' invalid: time: invalid duration");
    auto max = std::chrono::hours(24);
    if (d->count() != 0 && (*d < ctx.session_ttl_min || *d > max)) {
      return invalidArgument("Invalid Session TTL '" + std::to_string(d->count()) +
                             "', must be between [" + formatGoDuration(ctx.session_ttl_min) + "=" +
                             formatGoDuration(max) + "]");
    }
    s->set_ttl(formatGoDuration(*d));
  }
  return Status::ok();
}

Json renderSessions(const std::vector<const pb::Session*>& sessions) {
  Json out = Json::array();
  for (const pb::Session* s : sessions) out.push_back(model::renderSession(*s));
  return out;
}

}  // namespace

asio::awaitable<Response> sessionCreate(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  pb::Command cmd;
  pb::Session* s = cmd.mutable_session()->mutable_session();
  cmd.mutable_session()->set_op("create");
  if (Status st = decodeSession(ctx, *body, s); !st) co_return errorResponse(st);
  s->set_id(newUuid());
  std::string id = s->id();
  std::string ttl = s->ttl();
  Status st = server::appliedStatus(co_await ctx.writer.submit(cmd));
  if (!st) co_return errorResponse(st);
  if (auto d = parseGoDuration(ttl)) ctx.session_timers.reset(id, *d);
  co_return jsonResponse(ctx, ex, Json{{"ID", id}});
}

asio::awaitable<Response> sessionDestroy(Context& ctx, Exchange& ex, std::string id) {
  if (id.empty()) co_return Response::text(400, "Missing session");
  pb::Command cmd;
  cmd.mutable_session()->set_op("destroy");
  cmd.mutable_session()->mutable_session()->set_id(id);
  auto r = co_await ctx.writer.submit(cmd);
  if (!r) co_return errorResponse(r.status());
  ctx.session_timers.clear(id);
  co_return jsonResponse(ctx, ex, true);
}

asio::awaitable<Response> sessionRenew(Context& ctx, Exchange& ex, std::string id) {
  const pb::Session* s = ctx.store.session(id);
  if (s == nullptr) co_return Response::text(404, "Session id '" + id + "' not found");
  if (auto d = parseGoDuration(s->ttl())) ctx.session_timers.reset(id, *d);
  Response r = jsonResponse(ctx, ex, renderSessions({s}));
  setQueryMeta(ctx, ex, r, ctx.store.tableIndex(state::kSessions));
  co_return r;
}

asio::awaitable<Response> sessionInfo(Context& ctx, Exchange& ex, std::string id) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kSessions)), [&](Json& out) {
        const pb::Session* s = ctx.store.session(id);
        out = s != nullptr ? renderSessions({s}) : Json::array();
        return ctx.store.tableIndex(state::kSessions);
      });
}

asio::awaitable<Response> sessionList(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kSessions)), [&](Json& out) {
        std::vector<const pb::Session*> all;
        for (const auto& [id, s] : ctx.store.sessions()) all.push_back(&s);
        out = renderSessions(all);
        return ctx.store.tableIndex(state::kSessions);
      });
}

asio::awaitable<Response> sessionNode(Context& ctx, Exchange& ex, std::string node) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kSessions)), [&](Json& out) {
        out = renderSessions(ctx.store.nodeSessions(node));
        return ctx.store.tableIndex(state::kSessions);
      });
}

}  // namespace trellis::api
