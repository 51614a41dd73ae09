// /v1/agent/*: the local agent's view (self, members, local services and checks), registration,
// TTL updates, maintenance, local health aggregation, reload and leave.
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "http/park.h"
#include "model/decode.h"
#include "version.h"

namespace trellis::api {

namespace asio = boost::asio;

namespace {

Json memberJson(const Context& ctx) {
  const auto& c = ctx.config;
  Json tags;
  tags["acls"] = "0";
  tags["bootstrap"] = "1";
  tags["build"] = std::string(kConsulCompatVersion) + ":trellis-" + c.version;
  tags["dc"] = c.datacenter;
  tags["ft_fs"] = "1";
  tags["ft_si"] = "1";
  tags["grpc_port"] = std::to_string(c.grpc_port);
  tags["id"] = ctx.agent.options().node_id;
  tags["port"] = std::to_string(c.server_port);
  tags["raft_vsn"] = "3";
  tags["role"] = c.server ? "consul" : "node";
  tags["segment"] = "";
  tags["vsn"] = "2";
  tags["vsn_max"] = "3";
  tags["vsn_min"] = "2";
  tags["wan_join_port"] = "8302";
  Json m;
  m["Name"] = c.node_name;
  m["Addr"] = c.bind_addr;
  m["Port"] = c.serf_lan_port;
  m["Tags"] = tags;
  m["Status"] = 1;
  m["ProtocolMin"] = 1;
  m["ProtocolMax"] = 5;
  m["ProtocolCur"] = 2;
  m["DelegateMin"] = 2;
  m["DelegateMax"] = 5;
  m["DelegateCur"] = 4;
  return m;
}

std::string contentHash(const Json& j) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : j.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Json localCheckJson(const pb::Check& c) { return model::renderCheck(c); }

// Worst status among checks, with maintenance taking precedence (Consul's aggregation order).
std::string aggregate(const std::vector<const pb::Check*>& checks) {
  bool maint = false, critical = false, warning = false;
  for (const pb::Check* c : checks) {
    if (c->check_id().rfind("_service_maintenance:", 0) == 0 ||
        c->check_id() == agent::kNodeMaintenanceId) {
      maint = true;
    } else if (c->status() == "critical") {
      critical = true;
    } else if (c->status() == "warning") {
      warning = true;
    }
  }
  return maint ? "maintenance" : critical ? "critical" : warning ? "warning" : "passing";
}

int statusCode(const std::string& agg) {
  if (agg == "passing") return 200;
  if (agg == "warning") return 429;
  return 503;
}

bool wantsText(const http::Request& req) {
  if (req.param("format") == std::optional<std::string>("text")) return true;
  auto accept = req.header("Accept");
  return accept && accept->rfind("text/plain", 0) == 0;
}

std::vector<const pb::Check*> localChecksFor(const Context& ctx, const std::string& service_id) {
  std::vector<const pb::Check*> out;
  for (const auto& [id, lc] : ctx.agent.checks()) {
    if (lc.check.service_id() == service_id || lc.check.service_id().empty()) {
      out.push_back(&lc.check);
    }
  }
  return out;
}

Json serviceHealth(const Context& ctx, const pb::Service& svc, std::string* agg) {
  auto checks = localChecksFor(ctx, svc.id());
  *agg = aggregate(checks);
  Json j;
  j["AggregatedStatus"] = *agg;
  j["Service"] = model::renderAgentService(svc, false, ctx.config.datacenter);
  Json cs = Json::array();
  for (const pb::Check* c : checks) cs.push_back(localCheckJson(*c));
  j["Checks"] = cs;
  return j;
}

Result<bool> enableParam(const http::Request& req) {
  auto v = req.param("enable");
  if (!v) return invalidArgument("Missing value for enable");
  if (*v == "true" || *v == "1" || *v == "t" || *v == "True" || *v == "TRUE") return true;
  if (*v == "false" || *v == "0" || *v == "f" || *v == "False" || *v == "FALSE") return false;
  return invalidArgument("Invalid value for enable: \"" + *v + "\"");
}

asio::awaitable<Response> statusOnly(Context& ctx, Exchange& ex, Status s) {
  if (!s) co_return errorResponse(s);
  co_return emptyOk();
}

}  // namespace

asio::awaitable<Response> agentSelf(Context& ctx, Exchange& ex, std::string) {
  const auto& c = ctx.config;
  Json config;
  config["Datacenter"] = c.datacenter;
  config["PrimaryDatacenter"] = c.datacenter;
  config["NodeName"] = c.node_name;
  config["NodeID"] = ctx.agent.options().node_id;
  config["Revision"] = "trellis";
  config["Server"] = c.server;
  config["Version"] = kConsulCompatVersion;
  config["BuildDate"] = "2026-11-26T00:00:00Z";
  config["TrellisVersion"] = c.version;
  Json debug;
  debug["GRPCPort"] = c.grpc_port;
  debug["HTTPPort"] = c.http_port;
  debug["DNSPort"] = c.dns_port;
  debug["Datacenter"] = c.datacenter;
  debug["NodeName"] = c.node_name;
  debug["DevMode"] = c.dev;
  Json coord;
  coord["Vec"] = Json::array({0, 0, 0, 0, 0, 0, 0, 0});
  coord["Error"] = 1.5;
  coord["Adjustment"] = 0;
  coord["Height"] = 1e-05;
  Json stats;
  stats["agent"] = {{"checks", std::to_string(ctx.agent.checks().size())},
                    {"services", std::to_string(ctx.agent.services().size())}};
  stats["build"] = {{"version", kConsulCompatVersion}, {"revision", "trellis"}, {"prerelease", ""}};
  stats["raft"] = {{"state", "Leader"}, {"applied_index", std::to_string(ctx.store.lastIndex())}};
  Json meta = Json::object();
  for (const auto& [k, v] : ctx.agent.options().node_meta) meta[k] = v;
  meta["consul-network-segment"] = "";
  // `connect envoy` reads xDS.Port to point Envoy at us. Consul puts its TLS gRPC port there
  // when it has one; this agent has no TLS gRPC listener, so Port is the plaintext one.
  int grpc = c.grpc_port > 0 ? c.grpc_port : -1;
  Json xds;
  xds["SupportedProxies"] = {{"envoy", Json::array({"1.33.2", "1.32.5", "1.31.7", "1.30.11"})}};
  xds["Port"] = grpc;
  xds["Ports"] = {{"Plaintext", grpc}, {"TLS", -1}};
  Json out;
  out["Config"] = config;
  out["DebugConfig"] = debug;
  out["Coord"] = coord;
  out["Member"] = memberJson(ctx);
  out["Stats"] = stats;
  out["Meta"] = meta;
  out["xDS"] = xds;
  co_return jsonResponse(ctx, ex, out);
}

asio::awaitable<Response> agentMembers(Context& ctx, Exchange& ex, std::string) {
  co_return jsonResponse(ctx, ex, Json::array({memberJson(ctx)}));
}

asio::awaitable<Response> agentVersion(Context& ctx, Exchange& ex, std::string) {
  Json v;
  v["SHA"] = "trellis";
  v["BuildDate"] = "2026-11-26T00:00:00Z";
  v["HumanVersion"] = std::string(kConsulCompatVersion) + " (Trellis " + ctx.config.version + ")";
  v["FIPS"] = "";
  co_return jsonResponse(ctx, ex, v);
}

asio::awaitable<Response> agentServices(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  Json out = Json::object();
  for (const auto& [id, ls] : ctx.agent.services()) {
    out[id] = model::renderAgentService(ls.service, false, ctx.config.datacenter);
  }
  applyFilter(*opts, out);
  co_return jsonResponse(ctx, ex, out);
}

asio::awaitable<Response> agentService(Context& ctx, Exchange& ex, std::string id) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  auto render = [&](std::string* hash) -> std::optional<Json> {
    auto it = ctx.agent.services().find(id);
    if (it == ctx.agent.services().end()) return std::nullopt;
    Json j = model::renderAgentService(it->second.service, false, ctx.config.datacenter);
    *hash = contentHash(j);
    j["ContentHash"] = *hash;
    return j;
  };
  std::string hash;
  auto j = render(&hash);
  auto want = ex.request.param("hash");
  if (j && want && *want == hash) {
    // Hash-based blocking: park until the local service changes or the wait runs out.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(opts->wait);
    http::Parker parker(co_await asio::this_coro::executor, ex);
    state::Waiter waiter([&parker] { parker.wake(); });
    while (j && hash == *want && std::chrono::steady_clock::now() < deadline) {
      ctx.store.watches().watch(waiter, state::WatchHub::tableTopic(state::kServices));
      bool woke = co_await parker.wait(deadline);
      waiter.cancel();
      if (ex.clientGone()) co_return Response::text(499, "client closed request");
      j = render(&hash);
      if (!woke) break;
    }
  }
  if (!j) co_return Response::text(404, "unknown service ID: " + id);
  Response r = jsonResponse(ctx, ex, *j);
  r.set("X-Consul-ContentHash", hash);
  co_return r;
}

asio::awaitable<Response> agentServiceRegister(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  auto def = agent::decodeService(*body, ctx.config.node_name);
  if (!def) co_return errorResponse(def.status());
  auto replace = boolParam(ex.request, "replace-existing-checks");
  if (!replace) co_return errorResponse(replace.status());
  co_return co_await statusOnly(ctx, ex, co_await ctx.agent.addService(std::move(*def), *replace, false));
}

asio::awaitable<Response> agentServiceDeregister(Context& ctx, Exchange& ex, std::string id) {
  co_return co_await statusOnly(ctx, ex, co_await ctx.agent.removeService(id));
}

asio::awaitable<Response> agentServiceMaintenance(Context& ctx, Exchange& ex, std::string id) {
  auto enable = enableParam(ex.request);
  if (!enable) co_return errorResponse(enable.status());
  co_return co_await statusOnly(
      ctx, ex,
      co_await ctx.agent.serviceMaintenance(id, *enable, ex.request.param("reason").value_or("")));
}

asio::awaitable<Response> agentMaintenance(Context& ctx, Exchange& ex, std::string) {
  auto enable = enableParam(ex.request);
  if (!enable) co_return errorResponse(enable.status());
  co_return co_await statusOnly(
      ctx, ex, co_await ctx.agent.nodeMaintenance(*enable, ex.request.param("reason").value_or("")));
}

asio::awaitable<Response> agentChecks(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  Json out = Json::object();
  for (const auto& [id, lc] : ctx.agent.checks()) out[id] = localCheckJson(lc.check);
  applyFilter(*opts, out);
  co_return jsonResponse(ctx, ex, out);
}

asio::awaitable<Response> agentCheckRegister(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  auto def = agent::decodeCheck(*body, ctx.config.node_name);
  if (!def) co_return errorResponse(def.status());
  co_return co_await statusOnly(ctx, ex, co_await ctx.agent.addCheck(std::move(*def), false));
}

asio::awaitable<Response> agentCheckDeregister(Context& ctx, Exchange& ex, std::string id) {
  co_return co_await statusOnly(ctx, ex, co_await ctx.agent.removeCheck(id));
}

asio::awaitable<Response> agentCheckPass(Context& ctx, Exchange& ex, std::string id) {
  co_return co_await statusOnly(
      ctx, ex, co_await ctx.agent.updateTtl(id, "passing", ex.request.param("note").value_or("")));
}

asio::awaitable<Response> agentCheckWarn(Context& ctx, Exchange& ex, std::string id) {
  co_return co_await statusOnly(
      ctx, ex, co_await ctx.agent.updateTtl(id, "warning", ex.request.param("note").value_or("")));
}

asio::awaitable<Response> agentCheckFail(Context& ctx, Exchange& ex, std::string id) {
  co_return co_await statusOnly(
      ctx, ex, co_await ctx.agent.updateTtl(id, "critical", ex.request.param("note").value_or("")));
}

asio::awaitable<Response> agentCheckUpdate(Context& ctx, Exchange& ex, std::string id) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  auto f = model::Fields::of(*body, "checkUpdate");
  if (!f) co_return errorResponse(f.status());
  std::string status, output;
  Status s;
  if (!(s = f->str("Status", &status)) || !(s = f->str("Output", &output)) || !(s = f->finish())) {
    co_return errorResponse(s);
  }
  if (status != "passing" && status != "warning" && status != "critical") {
    co_return Response::text(400, "Invalid check status: '" + status + "'");
  }
  co_return co_await statusOnly(ctx, ex, co_await ctx.agent.updateTtl(id, status, output));
}

asio::awaitable<Response> agentHealthById(Context& ctx, Exchange& ex, std::string id) {
  bool text = wantsText(ex.request);
  auto it = ctx.agent.services().find(id);
  if (it == ctx.agent.services().end()) {
    if (text) co_return Response::text(404, "ServiceId " + id + " not found");
    Json j;
    j["AggregatedStatus"] = "critical";
    j["Service"] = nullptr;
    j["Checks"] = nullptr;
    co_return jsonResponse(ctx, ex, j, 404);
  }
  std::string agg;
  Json j = serviceHealth(ctx, it->second.service, &agg);
  if (text) co_return Response::text(statusCode(agg), agg);
  co_return jsonResponse(ctx, ex, j, statusCode(agg));
}

asio::awaitable<Response> agentHealthByName(Context& ctx, Exchange& ex, std::string name) {
  bool text = wantsText(ex.request);
  Json out = Json::array();
  std::vector<const pb::Check*> all;
  for (const auto& [id, ls] : ctx.agent.services()) {
    if (ls.service.service() != name) continue;
    std::string agg;
    out.push_back(serviceHealth(ctx, ls.service, &agg));
    auto checks = localChecksFor(ctx, id);
    all.insert(all.end(), checks.begin(), checks.end());
  }
  if (out.empty()) {
    Response r = Response::text(404, "ServiceName " + name + " Not Found");
    if (!text) r.set("Content-Type", "application/json");
    co_return r;
  }
  std::string agg = aggregate(all);
  if (text) co_return Response::text(statusCode(agg), agg);
  co_return jsonResponse(ctx, ex, out, statusCode(agg));
}

asio::awaitable<Response> agentReload(Context& ctx, Exchange& ex, std::string) {
  if (!ctx.reload) co_return emptyOk();
  co_return co_await statusOnly(ctx, ex, co_await ctx.reload());
}

asio::awaitable<Response> agentLeave(Context& ctx, Exchange& ex, std::string) {
  if (ctx.request_shutdown) ctx.request_shutdown();
  co_return emptyOk();
}

}  // namespace trellis::api
