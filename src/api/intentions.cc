// /v1/connect/intentions*: views and edits of service-intentions config entries (the source of
// truth), and /v1/agent/connect/authorize. Writes are config-entry CAS writes, retried when a
// concurrent write to the same destination won the race.
#include <chrono>
#include <ctime>

#include "api/connect_access.h"
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "common/duration.h"
#include "common/uuid.h"
#include "ca/spiffe.h"
#include "intentions/mapping.h"
#include "model/decode.h"

namespace trellis::api {

namespace asio = boost::asio;
using intentions::Intention;
using intentions::IntentionSet;

namespace {

constexpr const char* kKind = "service-intentions";
constexpr int kCasAttempts = 5;

model::ConfigEntry fromRow(const pb::ConfigEntry& row) {
  return model::ConfigEntry{row.kind(), row.name(), row.json(), row.create_index(),
                            row.modify_index()};
}

}  // namespace

const IntentionSet& intentionSet(Context& ctx) {
  uint64_t idx = ctx.store.tableIndex(state::kConfigEntries);
  if (!ctx.intention_set || ctx.intention_set_index != idx) {
    std::vector<Intention> all;
    for (const pb::ConfigEntry* row : ctx.store.configEntries(kKind)) {
      auto list = intentions::toIntentions(fromRow(*row));
      if (!list) continue;  // validated on write; a bad row is skipped, not fatal
      for (auto& i : *list) all.push_back(std::move(i));
    }
    ctx.intention_set = IntentionSet::build(std::move(all));
    ctx.intention_set_index = idx;
  }
  return *ctx.intention_set;
}

namespace {

intentions::DefaultPolicy defaultPolicy(const Context& ctx) {
  return intentions::DefaultPolicy{ctx.config.acl_default_policy != "deny", false};
}

std::string nowRfc3339() {
  return formatRfc3339(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
}

std::optional<model::ConfigEntry> currentEntry(Context& ctx, const std::string& destination) {
  const pb::ConfigEntry* row = ctx.store.configEntry(kKind, destination);
  if (row == nullptr) return std::nullopt;
  return fromRow(*row);
}

// Applies `edit` to the current entry of `destination` and writes the result with CAS, retrying
// when another write got there first. `edit` returns the entry to write, nullopt to delete it.
using Edit = std::function<Result<std::optional<model::ConfigEntry>>(const model::ConfigEntry*)>;

asio::awaitable<Status> editEntry(Context& ctx, const std::string& destination, Edit edit) {
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto current = currentEntry(ctx, destination);
    auto next = edit(current ? &*current : nullptr);
    if (!next) co_return next.status();
    uint64_t cas = current ? current->modify_index : 0;
    bool applied = false;
    Status s;
    if (*next) {
      s = co_await writeConfigEntry(ctx, **next, cas, &applied);
    } else if (current) {
      s = co_await deleteConfigEntry(ctx, kKind, destination, cas, &applied);
    } else {
      co_return Status::ok();
    }
    if (!s) co_return s;
    if (applied) co_return Status::ok();
  }
  co_return Status(Code::kConflict, "intention write kept conflicting with concurrent writes");
}

// An edit that writes `ixn` through the legacy (ID-keyed) path.
Edit upsertLegacyEdit(const Intention& ixn) {
  return [&ixn](const model::ConfigEntry* cur) -> Result<std::optional<model::ConfigEntry>> {
    auto e = intentions::upsertLegacy(cur, ixn);
    if (!e) return e.status();
    return std::optional<model::ConfigEntry>(std::move(*e));
  };
}

Result<std::string> requiredTarget(const http::Request& req, const std::string& param) {
  auto v = req.param(param);
  if (!v || v->empty()) return invalidArgument("required query parameter '" + param + "' not set");
  auto t = intentions::parseIntentionTarget(*v);
  if (!t) return t.status();
  return t->second;
}

const Intention* findById(const IntentionSet& set, const std::string& id) {
  for (const auto& i : set.all()) {
    if (!i.id.empty() && i.id == id) return &i;
  }
  return nullptr;
}

}  // namespace

asio::awaitable<Response> intentionsList(Context& ctx, Exchange& ex, std::string) {
  if (ex.request.method == "POST") {  // legacy create
    auto body = model::parseBody(ex.request.body);
    if (!body) co_return errorResponse(body.status());
    auto ixn = intentions::decodeIntention(*body);
    if (!ixn) co_return errorResponse(ixn.status());
    if (Status s = intentions::validateIntentionNames(*ixn); !s) co_return errorResponse(s);
    ixn->id = newUuid();
    ixn->created_at = ixn->updated_at = nowRfc3339();
    Intention in = *ixn;
    Status s = co_await editEntry(ctx, in.destination_name, upsertLegacyEdit(in));
    if (!s) co_return errorResponse(s);
    co_return jsonResponse(ctx, ex, Json{{"ID", in.id}});
  }
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kConfigEntries)), [&](Json& out) {
        out = Json::array();
        for (const auto& i : intentionSet(ctx).all()) out.push_back(intentions::renderIntention(i));
        return ctx.store.tableIndex(state::kConfigEntries);
      });
}

asio::awaitable<Response> intentionsExact(Context& ctx, Exchange& ex, std::string) {
  auto src = requiredTarget(ex.request, "source");
  if (!src) co_return errorResponse(src.status());
  auto dst = requiredTarget(ex.request, "destination");
  if (!dst) co_return errorResponse(dst.status());
  const std::string& method = ex.request.method;
  if (method == "GET") {
    auto opts = parseQueryOptions(ctx, ex.request);
    if (!opts) co_return errorResponse(opts.status());
    co_return co_await blockingRead(
        ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kConfigEntries)), [&]() {
          uint64_t idx = ctx.store.tableIndex(state::kConfigEntries);
          for (const auto& i : intentionSet(ctx).all()) {
            if (i.source_name == *src && i.destination_name == *dst) {
              return ReadResult{idx, jsonResponse(ctx, ex, intentions::renderIntention(i))};
            }
          }
          return ReadResult{idx, Response::text(404, "Intention not found")};
        });
  }
  if (method == "PUT") {
    auto body = model::parseBody(ex.request.body);
    if (!body) co_return errorResponse(body.status());
    auto ixn = intentions::decodeIntention(body->is_null() ? model::InJson::object() : *body);
    if (!ixn) co_return errorResponse(ixn.status());
    ixn->source_name = *src;
    ixn->destination_name = *dst;
    if (Status s = intentions::validateIntentionNames(*ixn); !s) co_return errorResponse(s);
    Intention in = *ixn;
    Status s = co_await editEntry(ctx, *dst, [&in](const model::ConfigEntry* cur)
                                      -> Result<std::optional<model::ConfigEntry>> {
      auto e = intentions::upsertBySourceName(cur, in);
      if (!e) return e.status();
      return std::optional<model::ConfigEntry>(std::move(*e));
    });
    if (!s) co_return errorResponse(s);
    co_return jsonResponse(ctx, ex, true);
  }
  std::string source = *src;
  Status s = co_await editEntry(ctx, *dst, [&source](const model::ConfigEntry* cur)
                                    -> Result<std::optional<model::ConfigEntry>> {
    if (cur == nullptr) return Status(Code::kNotFound, "");
    return intentions::removeBySourceName(*cur, source);
  });
  if (!s && s.code() != Code::kNotFound) co_return errorResponse(s);
  co_return jsonResponse(ctx, ex, true);
}

asio::awaitable<Response> intentionsCheck(Context& ctx, Exchange& ex, std::string) {
  auto src = requiredTarget(ex.request, "source");
  if (!src) co_return errorResponse(src.status());
  auto dst = requiredTarget(ex.request, "destination");
  if (!dst) co_return errorResponse(dst.status());
  auto policy = defaultPolicy(ctx);
  auto d = intentionSet(ctx).authorize(*src, *dst, policy);
  Json out{{"Allowed", d.authorized}};
  if (ex.request.has("explain")) {
    // Beyond Consul: which intention (or which default) decided, so a denial explains itself.
    Json why;
    why["DecidedBy"] = d.match != nullptr ? "intention" : "default";
    why["Reason"] = std::string(d.reason);
    if (d.match != nullptr) {
      why["Intention"] = intentions::renderIntention(*d.match);
      why["Precedence"] = d.match->precedence;
      why["Summary"] = intentions::cliString(*d.match);
      why["L7"] = d.match->isL7();
    } else {
      why["Intention"] = nullptr;
      why["DefaultPolicy"] = policy.allow ? "allow" : "deny";
    }
    out["Explanation"] = std::move(why);
  }
  co_return jsonResponse(ctx, ex, out);
}

asio::awaitable<Response> intentionsMatch(Context& ctx, Exchange& ex, std::string) {
  auto by = ex.request.param("by");
  if (!by || by->empty()) co_return Response::text(400, "required query parameter 'by' not set");
  if (*by != "source" && *by != "destination") {
    co_return Response::text(400, "'by' parameter must be 'source' or 'destination'");
  }
  auto names = ex.request.params("name");
  if (names.empty()) co_return Response::text(400, "required query parameter 'name' not set");
  auto type = *by == "source" ? intentions::MatchType::kSource : intentions::MatchType::kDestination;
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingRead(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kConfigEntries)), [&]() {
        uint64_t idx = ctx.store.tableIndex(state::kConfigEntries);
        Json out = Json::object();
        for (const auto& raw : names) {
          auto t = intentions::parseIntentionTarget(raw);
          if (!t) return ReadResult{idx, errorResponse(t.status())};
          Json list = Json::array();
          for (const Intention* i : intentionSet(ctx).match(type, t->second)) {
            list.push_back(intentions::renderIntention(*i));
          }
          out[raw] = std::move(list);
        }
        return ReadResult{idx, jsonResponse(ctx, ex, out)};
      });
}

asio::awaitable<Response> intentionsById(Context& ctx, Exchange& ex, std::string id) {
  const std::string& method = ex.request.method;
  const Intention* found = findById(intentionSet(ctx), id);
  if (method == "GET") {
    if (found == nullptr) co_return Response::text(404, "Intention not found");
    Response r = jsonResponse(ctx, ex, intentions::renderIntention(*found));
    setQueryMeta(ctx, ex, r, ctx.store.tableIndex(state::kConfigEntries));
    co_return r;
  }
  if (found == nullptr) co_return Response::text(404, "Intention not found");
  std::string old_destination = found->destination_name;
  std::string created = found->created_at;
  // Remove it from where it lives now; PUT then writes it (possibly to another destination).
  Intention update;
  if (method == "PUT") {
    auto body = model::parseBody(ex.request.body);
    if (!body) co_return errorResponse(body.status());
    auto ixn = intentions::decodeIntention(*body);
    if (!ixn) co_return errorResponse(ixn.status());
    if (Status s = intentions::validateIntentionNames(*ixn); !s) co_return errorResponse(s);
    update = std::move(*ixn);
    update.id = id;
    update.created_at = created;
    update.updated_at = nowRfc3339();
    if (update.destination_name == old_destination) {
      Status s = co_await editEntry(ctx, old_destination, upsertLegacyEdit(update));
      if (!s) co_return errorResponse(s);
      co_return emptyOk();
    }
  }
  Status s = co_await editEntry(ctx, old_destination, [&id](const model::ConfigEntry* cur)
                                    -> Result<std::optional<model::ConfigEntry>> {
    if (cur == nullptr) return Status(Code::kNotFound, "Intention not found");
    return intentions::removeByLegacyId(*cur, id);
  });
  if (!s) co_return errorResponse(s);
  if (method == "PUT") {
    s = co_await editEntry(ctx, update.destination_name, upsertLegacyEdit(update));
    if (!s) co_return errorResponse(s);
  }
  co_return emptyOk();
}

asio::awaitable<Response> agentConnectAuthorize(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  auto f = model::Fields::of(*body, "ConnectAuthorizeRequest");
  if (!f) co_return errorResponse(f.status());
  std::string target, uri, serial, ns;
  Status s;
  if (!(s = f->str("Target", &target)) || !(s = f->str("ClientCertURI", &uri)) ||
      !(s = f->str("ClientCertSerial", &serial)) || !(s = f->str("Namespace", &ns)) ||
      !(s = f->finish())) {
    co_return errorResponse(s);
  }
  if (target.empty()) co_return Response::text(400, "Target service must be specified");
  if (uri.empty()) co_return Response::text(400, "Client cert URI must be specified");
  auto id = ca::parseSpiffeId(uri);
  const auto* svc = id ? std::get_if<ca::ServiceId>(&*id) : nullptr;
  if (svc == nullptr) co_return Response::text(400, "ClientCertURI not a valid Connect identifier");
  // Beyond Consul: a certificate from another trust domain is never authorized here.
  if (ctx.ca != nullptr && ctx.ca->ready() && svc->trust_domain != ctx.ca->trustDomain()) {
    co_return jsonResponse(ctx, ex,
                           Json{{"Authorized", false},
                                {"Reason", "Client certificate is from trust domain \"" +
                                               svc->trust_domain + "\", not this cluster's"}});
  }
  const std::string& source = svc->service;
  auto d = intentionSet(ctx).authorize(source, target, defaultPolicy(ctx));
  co_return jsonResponse(ctx, ex, Json{{"Authorized", d.authorized}, {"Reason", std::string(d.reason)}});
}

}  // namespace trellis::api
