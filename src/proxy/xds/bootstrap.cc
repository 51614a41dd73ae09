#include "proxy/xds/bootstrap.h"

#include <nlohmann/json.hpp>

namespace trellis::proxy::xds {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxBootstrapBytes = 4 << 20;
constexpr int kMaxDepth = 64;

// nlohmann's parser is iterative, but a hostile document nested a million deep still costs a
// deep tree; bootstraps are a few levels deep, so refuse anything silly before parsing.
bool tooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

const Json* member(const Json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string stringAt(const Json& j, std::string_view key) {
  const Json* v = member(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// Envoy's JSON takes ports as numbers or numeric strings.
Result<uint16_t> port(const Json& socket_address) {
  const Json* v = member(socket_address, "port_value");
  int64_t n = -1;
  if (v != nullptr && v->is_number_integer()) {
    n = v->get<int64_t>();
  } else if (v != nullptr && v->is_string()) {
    const std::string s = v->get<std::string>();
    if (!s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos) {
      n = std::stoll(s);
    }
  }
  if (n <= 0 || n > 65535) return invalidArgument("bad port_value");
  return static_cast<uint16_t>(n);
}

// A repeated field that Consul's template writes as a single object.
const Json* firstOf(const Json* v) {
  if (v == nullptr) return nullptr;
  if (v->is_array()) return v->empty() ? nullptr : &(*v)[0];
  return v->is_object() ? v : nullptr;
}

Status agentAddress(const Json& root, BootstrapInfo& out) {
  const Json* ads = member(root, "dynamic_resources");
  ads = ads != nullptr ? member(*ads, "ads_config") : nullptr;
  if (ads == nullptr) return invalidArgument("bootstrap has no dynamic_resources.ads_config");
  const Json* grpc = firstOf(member(*ads, "grpc_services"));
  if (grpc == nullptr) return invalidArgument("bootstrap ads_config has no grpc_services");
  if (const Json* md = member(*grpc, "initial_metadata"); md != nullptr && md->is_array()) {
    for (const auto& kv : *md) {
      if (stringAt(kv, "key") == "x-consul-token") out.token = stringAt(kv, "value");
    }
  }
  const Json* eg = member(*grpc, "envoy_grpc");
  std::string cluster_name = eg != nullptr ? stringAt(*eg, "cluster_name") : "";
  if (cluster_name.empty())
    return invalidArgument("bootstrap ads_config names no envoy_grpc cluster");

  const Json* statics = member(root, "static_resources");
  const Json* clusters = statics != nullptr ? member(*statics, "clusters") : nullptr;
  if (clusters == nullptr || !clusters->is_array()) {
    return invalidArgument("bootstrap has no static_resources.clusters");
  }
  for (const auto& c : *clusters) {
    if (stringAt(c, "name") != cluster_name) continue;
    const Json* la = member(c, "load_assignment");
    const Json* eps = firstOf(la != nullptr ? member(*la, "endpoints") : nullptr);
    const Json* lbs = firstOf(eps != nullptr ? member(*eps, "lb_endpoints") : nullptr);
    const Json* ep = lbs != nullptr ? member(*lbs, "endpoint") : nullptr;
    const Json* addr = ep != nullptr ? member(*ep, "address") : nullptr;
    if (addr == nullptr) break;
    if (const Json* pipe = member(*addr, "pipe")) {
      out.agent_unix_path = stringAt(*pipe, "path");
      if (out.agent_unix_path.empty()) return invalidArgument("ADS cluster pipe has no path");
      return Status::ok();
    }
    const Json* sa = member(*addr, "socket_address");
    if (sa == nullptr) break;
    out.agent_address = stringAt(*sa, "address");
    auto p = port(*sa);
    if (out.agent_address.empty() || !p) {
      return invalidArgument("ADS cluster " + cluster_name + " has a bad socket_address");
    }
    out.agent_port = *p;
    return Status::ok();
  }
  return invalidArgument("bootstrap has no address for ADS cluster " + cluster_name);
}

Result<BootstrapInfo> parse(const Json& root) {
  if (!root.is_object()) return invalidArgument("bootstrap is not a JSON object");
  BootstrapInfo out;
  const Json* node = member(root, "node");
  if (node == nullptr) return invalidArgument("bootstrap has no node");
  out.node_id = stringAt(*node, "id");
  out.node_cluster = stringAt(*node, "cluster");
  if (out.node_id.empty()) return invalidArgument("bootstrap has no node.id");
  if (const Json* md = member(*node, "metadata")) {
    if (auto ns = stringAt(*md, "namespace"); !ns.empty()) out.node_namespace = ns;
    if (auto ap = stringAt(*md, "partition"); !ap.empty()) out.node_partition = ap;
  }
  if (auto s = agentAddress(root, out); !s) return s;
  const Json* admin = member(root, "admin");
  const Json* addr = admin != nullptr ? member(*admin, "address") : nullptr;
  const Json* sa = addr != nullptr ? member(*addr, "socket_address") : nullptr;
  if (sa != nullptr) {
    out.admin_address = stringAt(*sa, "address");
    auto p = port(*sa);
    if (out.admin_address.empty() || !p) return invalidArgument("bad admin socket_address");
    out.admin_port = *p;
  }
  return out;
}

}  // namespace

std::string BootstrapInfo::agentTarget() const {
  if (!agent_unix_path.empty()) return "unix:" + agent_unix_path;
  if (agent_address.find(':') != std::string::npos) {
    return "[" + agent_address + "]:" + std::to_string(agent_port);
  }
  return agent_address + ":" + std::to_string(agent_port);
}

Result<BootstrapInfo> parseBootstrap(std::string_view json) {
  if (json.size() > kMaxBootstrapBytes) return invalidArgument("bootstrap is too large");
  if (tooDeep(json)) return invalidArgument("bootstrap nests too deep");
  try {
    return parse(Json::parse(json));
  } catch (const Json::exception& e) {
    return invalidArgument(std::string("bootstrap is not valid JSON: ") + e.what());
  }
}

}  // namespace trellis::proxy::xds
