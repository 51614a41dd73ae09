// /v1/config: config entries. PUT /v1/config carries Kind and Name in the body (?cas), GET lists
// a kind or reads one entry (blocking), DELETE removes one (?cas). Stored as canonical JSON.
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "model/config_entry.h"
#include "model/decode.h"

namespace trellis::api {

namespace asio = boost::asio;

namespace {

model::ConfigEntry fromRow(const pb::ConfigEntry& row) {
  return model::ConfigEntry{row.kind(), row.name(), row.json(), row.create_index(),
                            row.modify_index()};
}

Result<std::optional<uint64_t>> casParam(const http::Request& req) {
  auto v = req.param("cas");
  if (!v) return std::optional<uint64_t>();
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || (*v)[0] == '-') {
    return invalidArgument("Failed to parse cas index: " + *v);
  }
  return std::optional<uint64_t>(n);
}

}  // namespace

Json renderEntryRow(const pb::ConfigEntry& row) { return model::renderConfigEntry(fromRow(row)); }

asio::awaitable<Status> writeConfigEntry(Context& ctx, const model::ConfigEntry& e,
                                         std::optional<uint64_t> cas, bool* applied) {
  pb::Command cmd;
  auto* op = cmd.mutable_config_entry();
  op->set_op(cas ? "upsert-cas" : "upsert");
  op->set_cas_index(cas.value_or(0));
  op->mutable_entry()->set_kind(e.kind);
  op->mutable_entry()->set_name(e.name);
  op->mutable_entry()->set_json(e.body);
  auto r = co_await ctx.writer.submit(cmd);
  if (!r) co_return r.status();
  *applied = std::any_cast<bool>(r->result);
  co_return Status::ok();
}

asio::awaitable<Status> deleteConfigEntry(Context& ctx, const std::string& kind,
                                          const std::string& name, std::optional<uint64_t> cas,
                                          bool* applied) {
  pb::Command cmd;
  auto* op = cmd.mutable_config_entry();
  op->set_op(cas ? "delete-cas" : "delete");
  op->set_cas_index(cas.value_or(0));
  op->mutable_entry()->set_kind(kind);
  op->mutable_entry()->set_name(name);
  auto r = co_await ctx.writer.submit(cmd);
  if (!r) co_return r.status();
  *applied = std::any_cast<bool>(r->result);
  co_return Status::ok();
}

asio::awaitable<Response> configApply(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) {
    co_return Response::text(400, "Request decoding failed: " +
                                      body.status().message().substr(
                                          std::string("Request decode failed: ").size()));
  }
  auto entry = model::decodeConfigEntry(*body);
  if (!entry) co_return errorResponse(entry.status());
  auto cas = casParam(ex.request);
  if (!cas) co_return errorResponse(cas.status());
  bool applied = false;
  Status s = co_await writeConfigEntry(ctx, *entry, *cas, &applied);
  if (!s) co_return errorResponse(s);
  co_return jsonResponse(ctx, ex, applied);
}

asio::awaitable<Response> configEntryPath(Context& ctx, Exchange& ex, std::string rest) {
  size_t slash = rest.find('/');
  std::string kind = rest.substr(0, slash);
  std::string name = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (kind.empty()) co_return Response::text(400, "Must provide a kind");
  if (!model::isSupportedKind(kind)) {
    co_return Response::text(400, "invalid config entry kind: " + kind);
  }
  if (ex.request.method == "DELETE") {
    if (name.empty()) co_return Response::text(400, "Must provide both a kind and name to delete");
    auto cas = casParam(ex.request);
    if (!cas) co_return errorResponse(cas.status());
    bool applied = false;
    Status s = co_await deleteConfigEntry(ctx, kind, name, *cas, &applied);
    if (!s) co_return errorResponse(s);
    if (*cas) co_return jsonResponse(ctx, ex, applied);
    co_return jsonResponse(ctx, ex, Json::object());
  }
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  auto topics = oneTopic(state::WatchHub::tableTopic(state::kConfigEntries));
  if (name.empty()) {
    co_return co_await blockingJson(ctx, ex, *opts, std::move(topics), [&](Json& out) {
      out = Json::array();
      for (const pb::ConfigEntry* e : ctx.store.configEntries(kind)) out.push_back(renderEntryRow(*e));
      return ctx.store.tableIndex(state::kConfigEntries);
    });
  }
  co_return co_await blockingRead(ctx, ex, *opts, std::move(topics), [&]() {
    uint64_t idx = ctx.store.tableIndex(state::kConfigEntries);
    const pb::ConfigEntry* e = ctx.store.configEntry(kind, name);
    if (e == nullptr) {
      return ReadResult{idx, Response::text(404, "Config entry not found for \"" + kind +
                                                     "\" / \"" + name + "\"")};
    }
    return ReadResult{idx, jsonResponse(ctx, ex, renderEntryRow(*e))};
  });
}

}  // namespace trellis::api
