#include "config/flags.h"

#include <charconv>
#include <string_view>

namespace trellis::config {
namespace {

using nlohmann::json;

enum class FlagKind { kBool, kString, kInt, kStringList, kMeta };

struct FlagSpec {
  std::string_view name;
  FlagKind kind;
  std::string_view key;  // dotted config key; empty for flags handled by the loader itself
};

// The flags Consul's agent command defines that Trellis accepts; each maps onto a config key.
constexpr FlagSpec kFlags[] = {
    {"dev", FlagKind::kBool, ""},
    {"config-file", FlagKind::kString, ""},
    {"config-dir", FlagKind::kString, ""},
    {"config-format", FlagKind::kString, ""},
    {"hcl", FlagKind::kString, ""},
    {"server", FlagKind::kBool, "server"},
    {"bootstrap", FlagKind::kBool, "bootstrap"},
    {"bootstrap-expect", FlagKind::kInt, "bootstrap_expect"},
    {"data-dir", FlagKind::kString, "data_dir"},
    {"node", FlagKind::kString, "node_name"},
    {"node-id", FlagKind::kString, "node_id"},
    {"node-meta", FlagKind::kMeta, "node_meta"},
    {"datacenter", FlagKind::kString, "datacenter"},
    {"bind", FlagKind::kString, "bind_addr"},
    {"client", FlagKind::kString, "client_addr"},
    {"advertise", FlagKind::kString, "advertise_addr"},
    {"advertise-wan", FlagKind::kString, "advertise_addr_wan"},
    {"serf-lan-bind", FlagKind::kString, "serf_lan"},
    {"serf-wan-bind", FlagKind::kString, "serf_wan"},
    {"http-port", FlagKind::kInt, "ports.http"},
    {"https-port", FlagKind::kInt, "ports.https"},
    {"dns-port", FlagKind::kInt, "ports.dns"},
    {"grpc-port", FlagKind::kInt, "ports.grpc"},
    {"grpc-tls-port", FlagKind::kInt, "ports.grpc_tls"},
    {"serf-lan-port", FlagKind::kInt, "ports.serf_lan"},
    {"serf-wan-port", FlagKind::kInt, "ports.serf_wan"},
    {"server-port", FlagKind::kInt, "ports.server"},
    {"log-level", FlagKind::kString, "log_level"},
    {"log-json", FlagKind::kBool, "log_json"},
    {"log-file", FlagKind::kString, "log_file"},
    {"syslog", FlagKind::kBool, "enable_syslog"},
    {"ui", FlagKind::kBool, "ui_config.enabled"},
    {"ui-dir", FlagKind::kString, "ui_config.dir"},
    {"ui-content-path", FlagKind::kString, "ui_config.content_path"},
    {"retry-join", FlagKind::kStringList, "retry_join"},
    {"retry-join-wan", FlagKind::kStringList, "retry_join_wan"},
    {"retry-interval", FlagKind::kString, "retry_interval"},
    {"retry-max", FlagKind::kInt, "retry_max"},
    {"join", FlagKind::kStringList, "start_join"},
    {"join-wan", FlagKind::kStringList, "start_join_wan"},
    {"rejoin", FlagKind::kBool, "rejoin_after_leave"},
    {"domain", FlagKind::kString, "domain"},
    {"alt-domain", FlagKind::kString, "alt_domain"},
    {"recursor", FlagKind::kStringList, "recursors"},
    {"enable-script-checks", FlagKind::kBool, "enable_script_checks"},
    {"enable-local-script-checks", FlagKind::kBool, "enable_local_script_checks"},
    {"encrypt", FlagKind::kString, "encrypt"},
    {"pid-file", FlagKind::kString, "pid_file"},
    {"disable-host-node-id", FlagKind::kBool, "disable_host_node_id"},
    {"disable-keyring-file", FlagKind::kBool, "disable_keyring_file"},
    {"raft-protocol", FlagKind::kInt, "raft_protocol"},
    {"protocol", FlagKind::kInt, "protocol"},
    {"segment", FlagKind::kString, "segment"},
    {"primary-gateway", FlagKind::kStringList, "primary_gateways"},
    {"default-query-time", FlagKind::kString, "default_query_time"},
    {"max-query-time", FlagKind::kString, "max_query_time"},
    {"auto-reload-config", FlagKind::kBool, "auto_reload_config"},
};

const FlagSpec* findFlag(std::string_view name) {
  for (const auto& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

json& slotFor(json& root, std::string_view dotted) {
  json* cur = &root;
  while (true) {
    size_t dot = dotted.find('.');
    std::string part(dotted.substr(0, dot));
    if (!cur->is_object()) *cur = json::object();
    cur = &(*cur)[part];
    if (dot == std::string_view::npos) return *cur;
    dotted.remove_prefix(dot + 1);
  }
}

Status setValue(AgentFlags& flags, const FlagSpec& spec, const std::string& value) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("invalid value \"" + value + "\" for flag -" + std::string(spec.name) +
                           ": " + why);
  };
  if (spec.name == "dev" || spec.kind == FlagKind::kBool) {
    bool b;
    if (value == "true" || value == "1" || value == "t" || value == "T" || value == "TRUE" ||
        value == "True") {
      b = true;
    } else if (value == "false" || value == "0" || value == "f" || value == "F" ||
               value == "FALSE" || value == "False") {
      b = false;
    } else {
      return bad("expected true or false");
    }
    if (spec.name == "dev") {
      flags.dev = b;
    } else {
      slotFor(flags.overrides, spec.key) = b;
    }
    return Status::ok();
  }
  if (spec.name == "config-file" || spec.name == "config-dir") {
    flags.config_paths.push_back(ConfigPath{value, spec.name == "config-file"});
    return Status::ok();
  }
  if (spec.name == "config-format") {
    if (value != "json" && value != "hcl") return bad("must be \"json\" or \"hcl\"");
    flags.config_format = value;
    return Status::ok();
  }
  if (spec.name == "hcl") {
    flags.hcl_snippets.push_back(value);
    return Status::ok();
  }
  json& slot = slotFor(flags.overrides, spec.key);
  switch (spec.kind) {
    case FlagKind::kInt: {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size()) {
        return bad("expected an integer");
      }
      slot = n;
      break;
    }
    case FlagKind::kStringList:
      if (!slot.is_array()) slot = json::array();
      slot.push_back(value);
      break;
    case FlagKind::kMeta: {
      // -node-meta key:value, repeatable
      size_t colon = value.find(':');
      if (colon == std::string::npos || colon == 0) return bad("expected key:value");
      if (!slot.is_object()) slot = json::object();
      slot[value.substr(0, colon)] = value.substr(colon + 1);
      break;
    }
    default:
      slot = value;
  }
  return Status::ok();
}

}  // namespace

Result<AgentFlags> parseAgentFlags(const std::vector<std::string>& args) {
  AgentFlags flags;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string_view arg = args[i];
      if (arg == "--") {
        if (i + 1 < args.size()) return invalidArgument("unexpected argument: " + args[i + 1]);
        break;
      }
      if (arg.size() < 2 || arg[0] != '-')
        return invalidArgument("unexpected argument: " + args[i]);
      std::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
      std::optional<std::string> value;
      size_t eq = body.find('=');
      std::string name(body.substr(0, eq));
      if (eq != std::string_view::npos) value = std::string(body.substr(eq + 1));
      const FlagSpec* spec = findFlag(name);
      if (spec == nullptr || name.empty() || name[0] == '-') {
        return invalidArgument("unknown flag: -" + name);
      }
      if (!value) {
        if (spec->kind == FlagKind::kBool) {
          value = "true";
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return invalidArgument("flag needs an argument: -" + name);
        }
      }
      Status s = setValue(flags, *spec, *value);
      if (!s.isOk()) return s;
    }
  } catch (const std::exception& e) {
    return internalError(std::string("flags: ") + e.what());
  }
  return flags;
}

}  // namespace trellis::config
