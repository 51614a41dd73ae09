#include "config/agent_config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/duration.h"
#include "config/config_sources.h"
#include "config/flags.h"
#include "config/normalize.h"

namespace trellis::config {
namespace {

using nlohmann::json;

std::string systemHostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Consul's dev mode (its DevSource): a single self-bootstrapping server on loopback. Consul's
// server bootstraps itself in dev mode without the flag; setting it here says the same plainly.
void applyDevDefaults(AgentConfig& c) {
  c.dev = true;
  c.server = true;
  c.bootstrap = true;
  c.bind_addr = "127.0.0.1";
  c.log_level = "debug";
  c.ports.grpc = 8502;
  c.ui = true;
  c.connect_enabled = true;
  c.pretty_json = true;
}

// Typed getters over the merged tree; normalizeSource() already checked every type.
const json* at(const json& root, std::initializer_list<const char*> path) {
  const json* cur = &root;
  for (const char* p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(p);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}
void get(const json& m, std::initializer_list<const char*> path, std::string& out) {
  if (const json* v = at(m, path); v != nullptr && v->is_string()) out = v->get<std::string>();
}
void get(const json& m, std::initializer_list<const char*> path, bool& out) {
  if (const json* v = at(m, path); v != nullptr && v->is_boolean()) out = v->get<bool>();
}
void get(const json& m, std::initializer_list<const char*> path, int& out) {
  if (const json* v = at(m, path); v != nullptr && v->is_number_integer()) out = v->get<int>();
}
void get(const json& m, std::initializer_list<const char*> path, uint64_t& out) {
  if (const json* v = at(m, path); v != nullptr && v->is_number_integer()) {
    out = v->get<uint64_t>();
  }
}
void get(const json& m, std::initializer_list<const char*> path, std::chrono::nanoseconds& out) {
  if (const json* v = at(m, path); v != nullptr && v->is_string()) {
    if (auto d = parseGoDuration(v->get_ref<const std::string&>())) out = *d;
  }
}

Status applyMerged(const json& m, AgentConfig& c) {
  get(m, {"server"}, c.server);
  get(m, {"bootstrap"}, c.bootstrap);
  get(m, {"bootstrap_expect"}, c.bootstrap_expect);
  get(m, {"datacenter"}, c.datacenter);
  c.datacenter = lower(c.datacenter);
  get(m, {"node_name"}, c.node_name);
  get(m, {"node_id"}, c.node_id);
  c.node_id = lower(c.node_id);
  get(m, {"data_dir"}, c.data_dir);
  get(m, {"bind_addr"}, c.bind_addr);
  get(m, {"client_addr"}, c.client_addr);
  get(m, {"advertise_addr"}, c.advertise_addr);
  get(m, {"addresses", "http"}, c.addresses.http);
  get(m, {"addresses", "https"}, c.addresses.https);
  get(m, {"addresses", "dns"}, c.addresses.dns);
  get(m, {"addresses", "grpc"}, c.addresses.grpc);
  get(m, {"addresses", "grpc_tls"}, c.addresses.grpc_tls);
  get(m, {"ports", "http"}, c.ports.http);
  get(m, {"ports", "https"}, c.ports.https);
  get(m, {"ports", "dns"}, c.ports.dns);
  get(m, {"ports", "grpc"}, c.ports.grpc);
  get(m, {"ports", "grpc_tls"}, c.ports.grpc_tls);
  get(m, {"ports", "serf_lan"}, c.ports.serf_lan);
  get(m, {"ports", "serf_wan"}, c.ports.serf_wan);
  get(m, {"ports", "server"}, c.ports.server);
  get(m, {"ports", "sidecar_min_port"}, c.ports.sidecar_min_port);
  get(m, {"ports", "sidecar_max_port"}, c.ports.sidecar_max_port);
  get(m, {"log_level"}, c.log_level);
  c.log_level = lower(c.log_level);
  if (c.log_level == "warning") c.log_level = "warn";
  if (c.log_level == "error") c.log_level = "err";
  get(m, {"log_json"}, c.log_json);
  get(m, {"ui"}, c.ui);
  get(m, {"ui_config", "enabled"}, c.ui);
  get(m, {"enable_script_checks"}, c.enable_script_checks);
  get(m, {"enable_local_script_checks"}, c.enable_local_script_checks);
  get(m, {"connect", "enabled"}, c.connect_enabled);
  get(m, {"domain"}, c.domain);
  if (!c.domain.empty() && c.domain.back() != '.') c.domain += '.';
  if (const json* meta = at(m, {"node_meta"}); meta != nullptr && meta->is_object()) {
    c.node_meta.clear();
    for (const auto& [k, v] : meta->items()) c.node_meta[k] = v.get<std::string>();
  }
  get(m, {"default_query_time"}, c.default_query_time);
  get(m, {"max_query_time"}, c.max_query_time);
  get(m, {"limits", "kv_max_value_size"}, c.kv_max_value_size);
  get(m, {"limits", "txn_max_req_len"}, c.txn_max_req_len);
  get(m, {"acl", "enabled"}, c.acl_enabled);
  get(m, {"acl", "default_policy"}, c.acl_default_policy);
  if (const json* s = at(m, {"services"}); s != nullptr && s->is_array()) {
    c.services.assign(s->begin(), s->end());
  }
  if (const json* s = at(m, {"checks"}); s != nullptr && s->is_array()) {
    c.checks.assign(s->begin(), s->end());
  }
  c.merged = m;

  // Checks across keys, which may come from different sources, so no single line to name.
  if (c.dev && c.bootstrap_expect > 0) {
    return invalidArgument("'bootstrap_expect > 0' is not allowed in -dev mode");
  }
  if (c.bootstrap && c.bootstrap_expect > 0) {
    return invalidArgument("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive");
  }
  if (!c.server && (c.bootstrap || c.bootstrap_expect > 0)) {
    return invalidArgument("'bootstrap' and 'bootstrap_expect' require 'server = true'");
  }
  if (c.ports.sidecar_min_port > c.ports.sidecar_max_port) {
    return invalidArgument(
        "ports.sidecar_min_port must not be greater than "
        "ports.sidecar_max_port");
  }
  if (c.default_query_time > c.max_query_time) {
    return invalidArgument("default_query_time must not be greater than max_query_time");
  }
  if (c.node_name.empty()) return invalidArgument("node_name cannot be empty");
  if (!c.dev && c.data_dir.empty()) return invalidArgument("data_dir is required (or use -dev)");
  return Status::ok();
}

}  // namespace

Result<AgentConfig> loadAgentConfig(const std::vector<std::string>& args) {
  return loadAgentConfig(args, LoadOptions{});
}

Result<AgentConfig> loadAgentConfig(const std::vector<std::string>& args,
                                    const LoadOptions& options) {
  try {
    auto flags = parseAgentFlags(args);
    if (!flags.isOk()) return flags.status();

    AgentConfig config;
    config.node_name = options.hostname.empty() ? systemHostname() : options.hostname;
    if (flags->dev) applyDevDefaults(config);

    auto sources = readConfigPaths(flags->config_paths, flags->config_format);
    if (!sources.isOk()) return sources.status();
    std::vector<ConfigSource> all = std::move(sources).value();
    for (size_t i = 0; i < flags->hcl_snippets.size(); ++i) {
      std::string name = "-hcl #" + std::to_string(i + 1);
      auto doc = parseConfigText(flags->hcl_snippets[i], "hcl");
      if (!doc.isOk()) return invalidArgument(name + ": " + doc.status().message());
      all.push_back(ConfigSource{name, std::move(doc).value()});
    }
    all.push_back(ConfigSource{"command-line flags", ParsedDocument{flags->overrides, {}}});

    json merged = json::object();
    for (const auto& source : all) {
      auto normalized = normalizeSource(source.doc, source.name, config.warnings);
      if (!normalized.isOk()) return normalized.status();
      mergeSources(merged, normalized.value());
    }
    if (flags->dev) {
      // Consul rejects nothing here, but Trellis keeps dev state in memory only.
      if (merged.contains("data_dir")) {
        config.warnings.push_back("data_dir is ignored in -dev mode: state is kept in memory");
      }
    }
    Status s = applyMerged(merged, config);
    if (!s.isOk()) return s;
    return config;
  } catch (const std::exception& e) {
    return internalError(std::string("config: ") + e.what());
  }
}

}  // namespace trellis::config
