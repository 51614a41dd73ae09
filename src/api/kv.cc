// /v1/kv/<key>: GET (recurse, keys, separator, raw), PUT (flags, cas, acquire, release), DELETE
// (recurse, cas). Values are raw bytes on the wire and base64 in JSON.
#include <set>

#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"

namespace trellis::api {
namespace {

namespace asio = boost::asio;

Result<uint64_t> u64Param(const http::Request& req, const std::string& name, bool* present) {
  auto v = req.param(name);
  *present = v.has_value();
  if (!v) return uint64_t{0};
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || (*v)[0] == '-') {
    return invalidArgument("Invalid " + name + " index");
  }
  return static_cast<uint64_t>(n);
}

std::string rawQuery(const http::Request& req) {
  size_t q = req.target.find('?');
  return q == std::string::npos ? std::string() : req.target.substr(q + 1);
}

asio::awaitable<Response> kvGet(Context& ctx, Exchange& ex, const std::string& key) {
  const auto& req = ex.request;
  auto opts = parseQueryOptions(ctx, req);
  if (!opts) co_return errorResponse(opts.status());
  using state::WatchHub;
  if (req.has("keys")) {
    std::string sep = req.param("separator").value_or(req.param("seperator").value_or(""));
    co_return co_await blockingRead(ctx, ex, *opts, oneTopic(WatchHub::kvPrefixTopic(key)), [&]() {
      uint64_t idx = 0;
      auto entries = ctx.store.kvList(key, &idx);
      Json keys = Json::array();
      std::string last_rollup;
      for (const pb::KVEntry* e : entries) {
        const std::string& k = e->key();
        if (!sep.empty()) {
          size_t pos = k.find(sep, key.size());
          if (pos != std::string::npos) {
            std::string rolled = k.substr(0, pos + sep.size());
            if (rolled != last_rollup) {
              keys.push_back(rolled);
              last_rollup = rolled;
            }
            continue;
          }
        }
        keys.push_back(k);
      }
      if (keys.empty() && !key.empty()) return ReadResult{idx, Response::text(404, "")};
      return ReadResult{idx, jsonResponse(ctx, ex, keys)};
    });
  }
  if (req.has("recurse")) {
    co_return co_await blockingRead(ctx, ex, *opts, oneTopic(WatchHub::kvPrefixTopic(key)), [&]() {
      uint64_t idx = 0;
      auto entries = ctx.store.kvList(key, &idx);
      if (entries.empty()) return ReadResult{idx, Response::text(404, "")};
      Json out = Json::array();
      for (const pb::KVEntry* e : entries) out.push_back(model::renderKv(*e, true));
      return ReadResult{idx, jsonResponse(ctx, ex, out)};
    });
  }
  bool raw = req.has("raw");
  co_return co_await blockingRead(ctx, ex, *opts, oneTopic(WatchHub::kvKeyTopic(key)), [&]() {
    const pb::KVEntry* e = ctx.store.kvGet(key);
    uint64_t idx = ctx.store.kvKeyIndex(key);
    if (e == nullptr) return ReadResult{idx, Response::text(404, "")};
    if (raw) {
      Response r;
      r.body = e->value();
      r.set("Content-Type", "text/plain");
      r.set("X-Content-Type-Options", "nosniff");
      r.set("Content-Security-Policy", "sandbox");
      return ReadResult{idx, std::move(r)};
    }
    Json out = Json::array();
    out.push_back(model::renderKv(*e, true));
    return ReadResult{idx, jsonResponse(ctx, ex, out)};
  });
}

asio::awaitable<Response> kvPut(Context& ctx, Exchange& ex, const std::string& key) {
  const auto& req = ex.request;
  if (key.empty()) co_return Response::text(400, "Missing key name");
  int given = req.has("cas") + req.has("acquire") + req.has("release");
  if (given > 1) co_return Response::text(400, "Conflicting flags: " + rawQuery(req));
  if (auto tl = checkBodySize(ex, ctx.config.kv_max_value_size)) co_return *tl;
  bool present = false;
  auto flags = u64Param(req, "flags", &present);
  if (!flags) co_return Response::text(400, "Invalid flags: " + req.param("flags").value_or(""));
  pb::Command cmd;
  pb::KVOp* op = cmd.mutable_kv();
  pb::KVEntry* e = op->mutable_entry();
  e->set_key(key);
  e->set_flags(*flags);
  e->set_value(req.body);
  e->set_has_value(!req.body.empty());
  op->set_verb("set");
  auto cas = u64Param(req, "cas", &present);
  if (!cas) co_return Response::text(400, cas.status().message());
  if (present) {
    op->set_verb("cas");
    e->set_modify_index(*cas);
  } else if (auto s = req.param("acquire")) {
    if (ctx.store.session(*s) == nullptr) {
      co_return Response::text(500, "invalid session \"" + *s + "\"");
    }
    // Consul keeps lock-delay on the leader, outside the log: a delayed acquire just fails.
    if (ctx.store.kvLockDelayed(key)) co_return jsonResponse(ctx, ex, false);
    op->set_verb("lock");
    e->set_session(*s);
  } else if (auto s = req.param("release")) {
    op->set_verb("unlock");
    e->set_session(*s);
  }
  auto r = co_await ctx.writer.submit(cmd);
  if (!r) co_return errorResponse(r.status());
  bool ok = std::any_cast<bool>(r->result);
  co_return jsonResponse(ctx, ex, ok);
}

asio::awaitable<Response> kvDelete(Context& ctx, Exchange& ex, const std::string& key) {
  const auto& req = ex.request;
  bool recurse = req.has("recurse");
  if (recurse && req.has("cas")) co_return Response::text(400, "Conflicting flags: " + rawQuery(req));
  if (key.empty() && !recurse) co_return Response::text(400, "Missing key name");
  pb::Command cmd;
  pb::KVOp* op = cmd.mutable_kv();
  op->mutable_entry()->set_key(key);
  op->set_verb(recurse ? "delete-tree" : "delete");
  bool present = false;
  auto cas = u64Param(req, "cas", &present);
  if (!cas) co_return Response::text(400, cas.status().message());
  if (present) {
    op->set_verb("delete-cas");
    op->mutable_entry()->set_modify_index(*cas);
  }
  auto r = co_await ctx.writer.submit(cmd);
  if (!r) co_return errorResponse(r.status());
  co_return jsonResponse(ctx, ex, std::any_cast<bool>(r->result));
}

}  // namespace

asio::awaitable<Response> kvEndpoint(Context& ctx, Exchange& ex, std::string key) {
  const std::string& m = ex.request.method;
  if (m == "GET") co_return co_await kvGet(ctx, ex, key);
  if (m == "PUT" || m == "POST") co_return co_await kvPut(ctx, ex, key);
  co_return co_await kvDelete(ctx, ex, key);
}

}  // namespace trellis::api
