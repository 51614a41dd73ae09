// /v1/catalog/*: direct catalog writes (register, deregister) and reads (nodes, services,
// instances of a service, one node's services).
#include <map>
#include <set>

#include "agent/definition.h"
#include "api/catalog_read.h"
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "common/uuid.h"
#include "model/decode.h"

namespace trellis::api {

namespace asio = boost::asio;
using model::Fields;
using model::InJson;

namespace {

Status decodeCatalogCheck(const InJson& v, const std::string& node, pb::Check* out) {
  auto f = Fields::of(v, "HealthCheck");
  if (!f) return f.status();
  std::string cnode, id, name, status, notes, output, service_id, service_name, type, ignored;
  std::vector<std::string> tags;
  int32_t exposed = 0;
  uint64_t idx = 0;
  Status s;
  if (!(s = f->str("Node", &cnode)) || !(s = f->str("CheckID", &id)) || !(s = f->str("Name", &name)) ||
      !(s = f->str("Status", &status)) || !(s = f->str("Notes", &notes)) ||
      !(s = f->str("Output", &output)) || !(s = f->str("ServiceID", &service_id)) ||
      !(s = f->str("ServiceName", &service_name)) || !(s = f->strings("ServiceTags", &tags)) ||
      !(s = f->str("Type", &type)) || !(s = f->i32("ExposedPort", &exposed)) ||
      !(s = f->str("Interval", &ignored)) || !(s = f->str("Timeout", &ignored)) ||
      !(s = f->u64("CreateIndex", &idx)) || !(s = f->u64("ModifyIndex", &idx))) {
    return s;
  }
  f->take("Namespace");
  f->take("Partition");
  f->take("PeerName");
  if (const InJson* d = f->take("Definition")) {
    auto df = Fields::of(*d, "HealthCheckDefinition");
    if (!df) return df.status();
    auto* def = out->mutable_definition();
    std::string http, method, body, tls, tcp, udp, grpc;
    bool skip = false, grpc_tls = false;
    std::chrono::nanoseconds interval{0}, timeout{0}, dereg{0};
    if (!(s = df->str("HTTP", &http)) || !(s = df->str("Method", &method)) ||
        !(s = df->str("Body", &body)) || !(s = df->str("TLSServerName", &tls)) ||
        !(s = df->boolean("TLSSkipVerify", &skip)) || !(s = df->str("TCP", &tcp)) ||
        !(s = df->str("UDP", &udp)) || !(s = df->str("GRPC", &grpc)) ||
        !(s = df->boolean("GRPCUseTLS", &grpc_tls)) || !(s = df->duration("Interval", &interval)) ||
        !(s = df->duration("Timeout", &timeout)) ||
        !(s = df->duration("DeregisterCriticalServiceAfter", &dereg))) {
      return s;
    }
    df->take("Header");
    df->take("IntervalDuration");
    df->take("TimeoutDuration");
    df->take("DeregisterCriticalServiceAfterDuration");
    df->take("H2PING");
    df->take("OSService");
    if (Status fin = df->finish(); !fin) return fin;
    def->set_http(http);
    def->set_method(method);
    def->set_body(body);
    def->set_tls_server_name(tls);
    def->set_tls_skip_verify(skip);
    def->set_tcp(tcp);
    def->set_udp(udp);
    def->set_grpc(grpc);
    def->set_grpc_use_tls(grpc_tls);
    def->set_interval_ns(interval.count());
    def->set_timeout_ns(timeout.count());
    def->set_deregister_critical_service_after_ns(dereg.count());
  }
  if (Status fin = f->finish(); !fin) return fin;
  if (!cnode.empty() && cnode != node) {
    return invalidArgument("Check node \"" + cnode + "\" does not match registration node \"" +
                           node + "\"");
  }
  if (!status.empty() && status != "passing" && status != "warning" && status != "critical") {
    return invalidArgument("Invalid check status: \"" + status + "\"");
  }
  out->set_node(node);
  out->set_check_id(id.empty() ? name : id);
  if (out->check_id().empty()) return invalidArgument("Missing check ID");
  out->set_name(name);
  out->set_status(status.empty() ? "critical" : status);
  out->set_notes(notes);
  out->set_output(output);
  out->set_service_id(service_id);
  out->set_type(type);
  out->set_exposed_port(exposed);
  return Status::ok();
}

Status decodeRegistration(const Context& ctx, const InJson& body, pb::RegisterRequest* req) {
  auto f = Fields::of(body, "RegisterRequest");
  if (!f) return f.status();
  std::string id, node, address, dc;
  std::map<std::string, std::string> tagged, meta;
  bool skip = false;
  Status s;
  if (!(s = f->str("ID", &id)) || !(s = f->str("Node", &node)) || !(s = f->str("Address", &address)) ||
      !(s = f->str("Datacenter", &dc)) || !(s = f->stringMap("TaggedAddresses", &tagged)) ||
      !(s = f->stringMap("NodeMeta", &meta)) || !(s = f->boolean("SkipNodeUpdate", &skip))) {
    return s;
  }
  const InJson* service = f->take("Service");
  const InJson* check = f->take("Check");
  const InJson* checks = f->take("Checks");
  f->take("Token");
  f->take("WriteRequest");
  f->take("Namespace");
  f->take("Partition");
  f->take("PeerName");
  f->take("Locality");
  f->take("EnterpriseMeta");
  if (Status fin = f->finish(); !fin) return fin;
  if (node.empty()) return invalidArgument("Must provide node");
  if (address.empty() && !skip) {
    return invalidArgument("Must provide address if SkipNodeUpdate is not set");
  }
  if (!id.empty() && !isUuid(id)) return invalidArgument("Bad node ID: " + id);
  if (!dc.empty() && dc != ctx.config.datacenter) {
    return Status(Code::kInternal, "No path to datacenter");
  }
  pb::Node* n = req->mutable_node();
  n->set_id(id);
  n->set_node(node);
  n->set_address(address);
  n->set_datacenter(ctx.config.datacenter);
  for (auto& [k, v] : tagged) (*n->mutable_tagged_addresses())[k] = v;
  for (auto& [k, v] : meta) (*n->mutable_meta())[k] = v;
  req->set_skip_node_update(skip);
  if (service != nullptr) {
    auto sd = agent::decodeService(*service, node);
    if (!sd) return sd.status();
    if (!sd->checks.empty()) return model::decodeError("json: unknown field \"Checks\"");
    *req->mutable_service() = sd->service;
  }
  if (check != nullptr) {
    if (Status cs = decodeCatalogCheck(*check, node, req->add_checks()); !cs) return cs;
  }
  if (checks != nullptr) {
    if (!checks->is_array()) return model::decodeError("json: cannot unmarshal into HealthChecks");
    for (const auto& c : *checks) {
      if (Status cs = decodeCatalogCheck(c, node, req->add_checks()); !cs) return cs;
    }
  }
  return Status::ok();
}

}  // namespace

asio::awaitable<Response> catalogRegister(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  pb::Command cmd;
  if (Status s = decodeRegistration(ctx, *body, cmd.mutable_register_()); !s) {
    co_return errorResponse(s);
  }
  Status s = server::appliedStatus(co_await ctx.writer.submit(cmd));
  if (!s) co_return errorResponse(s);
  co_return jsonResponse(ctx, ex, true);
}

asio::awaitable<Response> catalogDeregister(Context& ctx, Exchange& ex, std::string) {
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  auto f = Fields::of(*body, "DeregisterRequest");
  if (!f) co_return errorResponse(f.status());
  std::string node, service_id, check_id, dc;
  Status s;
  if (!(s = f->str("Node", &node)) || !(s = f->str("ServiceID", &service_id)) ||
      !(s = f->str("CheckID", &check_id)) || !(s = f->str("Datacenter", &dc))) {
    co_return errorResponse(s);
  }
  f->take("Token");
  f->take("Namespace");
  f->take("Partition");
  f->take("PeerName");
  if (Status fin = f->finish(); !fin) co_return errorResponse(fin);
  if (node.empty()) co_return Response::text(400, "Must provide node");
  pb::Command cmd;
  cmd.mutable_deregister()->set_node(node);
  cmd.mutable_deregister()->set_service_id(service_id);
  cmd.mutable_deregister()->set_check_id(check_id);
  s = server::appliedStatus(co_await ctx.writer.submit(cmd));
  if (!s) co_return errorResponse(s);
  co_return jsonResponse(ctx, ex, true);
}

asio::awaitable<Response> catalogDatacenters(Context& ctx, Exchange& ex, std::string) {
  co_return jsonResponse(ctx, ex, Json::array({ctx.config.datacenter}));
}

asio::awaitable<Response> catalogNodes(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kNodes)), [&](Json& out) {
        out = Json::array();
        for (const auto& [name, n] : ctx.store.nodes()) {
          if (nodeMetaMatches(ex.request, n)) out.push_back(model::renderNode(n));
        }
        return ctx.store.tableIndex(state::kNodes);
      });
}

asio::awaitable<Response> catalogServices(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingRead(ctx, ex, *opts, catalogTopics(), [&]() {
    std::map<std::string, std::set<std::string>> tags;
    for (const auto& [key, svc] : ctx.store.services()) {
      const pb::Node* n = ctx.store.node(svc.node());
      if (n == nullptr || !nodeMetaMatches(ex.request, *n)) continue;
      if (opts->filter && !opts->filter->matches(nlohmann::json(model::renderCatalogService(*n, svc)))) {
        continue;
      }
      auto& t = tags[svc.service()];
      t.insert(svc.tags().begin(), svc.tags().end());
    }
    Json out = Json::object();
    for (const auto& [name, t] : tags) out[name] = Json(std::vector<std::string>(t.begin(), t.end()));
    uint64_t idx = ctx.store.maxIndex({state::kNodes, state::kServices});
    return ReadResult{idx, jsonResponse(ctx, ex, out)};
  });
}

namespace {

// /v1/catalog/service/:s and /v1/catalog/connect/:s differ only in which instances they list.
asio::awaitable<Response> catalogInstances(
    Context& ctx, Exchange& ex, const std::string& name,
    std::vector<const pb::Service*> (*instances)(const Context&, const std::string&)) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingJson(ctx, ex, *opts, catalogTopics(), [&](Json& out) {
    out = Json::array();
    for (const pb::Service* svc : instances(ctx, name)) {
      const pb::Node* n = ctx.store.node(svc->node());
      if (n == nullptr || !tagsMatch(ex.request, *svc) || !nodeMetaMatches(ex.request, *n)) continue;
      out.push_back(model::renderCatalogService(*n, *svc));
    }
    return ctx.store.maxIndex({state::kNodes, state::kServices});
  });
}

std::vector<const pb::Service*> servicesNamed(const Context& ctx, const std::string& name) {
  return ctx.store.servicesByName(name);
}

}  // namespace

asio::awaitable<Response> catalogService(Context& ctx, Exchange& ex, std::string name) {
  co_return co_await catalogInstances(ctx, ex, name, servicesNamed);
}

asio::awaitable<Response> catalogConnect(Context& ctx, Exchange& ex, std::string name) {
  co_return co_await catalogInstances(ctx, ex, name, connectInstances);
}

asio::awaitable<Response> catalogNode(Context& ctx, Exchange& ex, std::string name) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingRead(ctx, ex, *opts, catalogTopics(), [&]() {
    uint64_t idx = ctx.store.maxIndex({state::kNodes, state::kServices});
    const pb::Node* n = ctx.store.node(name);
    if (n == nullptr) return ReadResult{idx, jsonResponse(ctx, ex, nullptr)};
    Json services = Json::object();
    for (const pb::Service* s : ctx.store.nodeServices(name)) {
      services[s->id()] = model::renderAgentService(*s, true, "");
    }
    applyFilter(*opts, services);
    Json out;
    out["Node"] = model::renderNode(*n);
    out["Services"] = std::move(services);
    return ReadResult{idx, jsonResponse(ctx, ex, out)};
  });
}

asio::awaitable<Response> catalogNodeServices(Context& ctx, Exchange& ex, std::string name) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  co_return co_await blockingRead(ctx, ex, *opts, catalogTopics(), [&]() {
    uint64_t idx = ctx.store.maxIndex({state::kNodes, state::kServices});
    const pb::Node* n = ctx.store.node(name);
    if (n == nullptr) return ReadResult{idx, Response::text(404, "Node not found")};
    Json services = Json::array();
    for (const pb::Service* s : ctx.store.nodeServices(name)) {
      services.push_back(model::renderAgentService(*s, true, ""));
    }
    applyFilter(*opts, services);
    Json out;
    out["Node"] = model::renderNode(*n);
    out["Services"] = std::move(services);
    return ReadResult{idx, jsonResponse(ctx, ex, out)};
  });
}

}  // namespace trellis::api
