// catalog datacenters / nodes / services, with the output of Consul's command/catalog.
#include <algorithm>
#include <map>

#include "cli/command.h"
#include "cli/format.h"

namespace trellis::cli {
namespace {

constexpr std::string_view kDcHelp = R"(Usage: trellis catalog datacenters [options]

  Retrieves the list of all known datacenters.
)";

constexpr std::string_view kNodesHelp = R"(Usage: trellis catalog nodes [options]

  Retrieves the list of nodes registered in a given datacenter. -service lists
  only nodes providing that service; -detailed adds tagged addresses and meta.
)";

constexpr std::string_view kServicesHelp = R"(Usage: trellis catalog services [options]

  Retrieves the list of services registered in a given datacenter. -tags adds
  each service's tags; -node lists the services of one node.
)";

void addNodeMeta(Query& q, const std::map<std::string, std::string>& meta) {
  for (const auto& [k, v] : meta) q.add("node-meta", k + ":" + v);
}

bool noExtraArgs(const FlagSet& flags, Context& ctx) {
  if (flags.args().empty()) return true;
  ctx.err << "Too many arguments (expected 0, got " << flags.args().size() << ")\n";
  return false;
}

}  // namespace

int runCatalogDatacenters(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  int code = 0;
  if (!parseFlags(flags, args, ctx, kDcHelp, &code)) return code;
  if (!noExtraArgs(flags, ctx)) return 1;
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.path = "/v1/catalog/datacenters";
  auto res = client->send(call);
  if (!callSucceeded(res)) return reportFailure(ctx, "Error listing datacenters", res);
  auto body = parseJson(res->body);
  if (!body || !body->is_array()) {
    ctx.err << "Error listing datacenters: unexpected response body\n";
    return 1;
  }
  for (const auto& dc : *body) {
    if (dc.is_string()) ctx.out << dc.get<std::string>() << "\n";
  }
  return 0;
}

int runCatalogNodes(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool detailed = false;
  std::string near, service, filter;
  std::map<std::string, std::string> nodeMeta;
  flags.addBool("detailed", &detailed, "Output detailed information about the nodes.");
  flags.addString("near", &near, "Node name to sort the node list by estimated round-trip time.");
  flags.addMap("node-meta", &nodeMeta, "Filter nodes with the given `key=value` pairs.");
  flags.addString("service", &service, "Only nodes providing the given service.");
  flags.addString("filter", &filter, "Filter to use with the request (or @file, or -).");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kNodesHelp, &code)) return code;
  if (!noExtraArgs(flags, ctx)) return 1;
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  if (!filter.empty()) {
    auto loaded = loadDataSource(filter, ctx);
    if (!loaded) {
      ctx.err << "Could not process filter argument: " << loaded.status().message() << "\n";
      return 1;
    }
    filter = *loaded;
  }

  ApiCall call;
  call.path =
      service.empty() ? "/v1/catalog/nodes" : "/v1/catalog/service/" + encodeComponent(service);
  if (!near.empty()) call.query.add("near", near);
  if (!filter.empty()) call.query.add("filter", filter);
  addNodeMeta(call.query, nodeMeta);
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    return reportFailure(
        ctx, service.empty() ? "Error listing nodes" : "Error listing nodes for service", res);
  }
  auto body = parseJson(res->body);
  if (!body || !(body->is_array() || body->is_null())) {
    ctx.err << "Error listing nodes: unexpected response body\n";
    return 1;
  }
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& entry : body->is_null() ? nlohmann::json::array() : *body) {
    if (!entry.is_object()) continue;
    if (service.empty()) {
      nodes.push_back(entry);
      continue;
    }
    // A CatalogService row carries its node's fields; NodeMeta is the node's Meta.
    nlohmann::json node = nlohmann::json::object();
    for (const char* k : {"ID", "Node", "Address", "Datacenter", "TaggedAddresses"}) {
      if (entry.contains(k)) node[k] = entry[k];
    }
    if (entry.contains("NodeMeta")) node["Meta"] = entry["NodeMeta"];
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) {
    ctx.err << "No nodes match the given query - try expanding your search.\n";
    return 0;
  }
  ctx.out << formatNodes(nodes, detailed) << "\n";
  return 0;
}

int runCatalogServices(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool tags = false;
  std::string node, filter;
  std::map<std::string, std::string> nodeMeta;
  flags.addString("node", &node, "Node `id or name` for which to list services.");
  flags.addMap("node-meta", &nodeMeta, "Only services on nodes with these `key=value` pairs.");
  flags.addBool("tags", &tags, "Display each service's tags as a comma-separated list.");
  flags.addString("filter", &filter, "Filter to use with the request (or @file, or -).");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kServicesHelp, &code)) return code;
  if (!noExtraArgs(flags, ctx)) return 1;
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  if (!filter.empty()) {
    auto loaded = loadDataSource(filter, ctx);
    if (!loaded) {
      ctx.err << "Could not process filter argument: " << loaded.status().message() << "\n";
      return 1;
    }
    filter = *loaded;
  }

  ApiCall call;
  call.path = node.empty() ? "/v1/catalog/services" : "/v1/catalog/node/" + encodeComponent(node);
  if (!filter.empty()) call.query.add("filter", filter);
  addNodeMeta(call.query, nodeMeta);
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    return reportFailure(
        ctx, node.empty() ? "Error listing services" : "Error listing services for node", res);
  }
  auto body = parseJson(res->body);
  if (!body) {
    ctx.err << "Error listing services: invalid JSON in response\n";
    return 1;
  }
  std::map<std::string, std::vector<std::string>> services;
  auto addTags = [](std::vector<std::string>& to, const nlohmann::json& list) {
    if (!list.is_array()) return;
    for (const auto& t : list) {
      if (t.is_string()) to.push_back(t.get<std::string>());
    }
  };
  if (node.empty() && body->is_object()) {
    for (const auto& [name, list] : body->items()) addTags(services[name], list);
  } else if (!node.empty() && body->is_object() && body->contains("Services")) {
    const auto& svcs = (*body)["Services"];
    auto addOne = [&](const nlohmann::json& s) {
      if (!s.is_object() || !s.contains("Service") || !s["Service"].is_string()) return;
      addTags(services[s["Service"].get<std::string>()], s.value("Tags", nlohmann::json()));
    };
    if (svcs.is_object()) {
      for (const auto& [id, s] : svcs.items()) addOne(s);
    } else if (svcs.is_array()) {
      for (const auto& s : svcs) addOne(s);
    }
  }
  if (services.empty()) {
    ctx.err << "No services match the given query - try expanding your search.\n";
    return 0;
  }
  if (!tags) {
    for (const auto& [name, t] : services) ctx.out << name << "\n";
    return 0;
  }
  std::string text;
  for (auto& [name, t] : services) {
    std::sort(t.begin(), t.end());
    std::string joined;
    for (const auto& tag : t) joined += (joined.empty() ? "" : ",") + tag;
    text += name + "\t" + joined + "\n";
  }
  std::string table = tabwrite(text, 0, 6);
  const char* ws = " \t\r\n";
  auto b = table.find_first_not_of(ws);
  table = b == std::string::npos ? "" : table.substr(b, table.find_last_not_of(ws) - b + 1);
  ctx.out << table << "\n";
  return 0;
}

}  // namespace trellis::cli
