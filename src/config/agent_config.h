#pragma once
// The agent's configuration, built once at startup from defaults, config files and directories,
// -hcl snippets and command-line flags (in that order of precedence, lowest first), validated
// against the keys Consul accepts. Immutable after loading: share it as
// std::shared_ptr<const AgentConfig>.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::config {

struct AgentConfig {
  bool dev = false;
  bool server = false;
  bool bootstrap = false;
  int bootstrap_expect = 0;
  std::string datacenter = "dc1";
  std::string node_name;  // default: the host name
  std::string node_id;    // may be empty: the agent generates one
  std::string data_dir;
  std::string bind_addr = "0.0.0.0";
  std::string client_addr = "127.0.0.1";
  std::string advertise_addr;  // empty: derived from bind_addr by the agent

  struct Addresses {  // empty = client_addr
    std::string http, https, dns, grpc, grpc_tls;
  } addresses;

  struct Ports {  // -1 disables a listener
    int http = 8500;
    int https = -1;
    int dns = 8600;
    int grpc = -1;
    int grpc_tls = -1;
    int serf_lan = 8301;
    int serf_wan = 8302;
    int server = 8300;
    int sidecar_min_port = 21000;
    int sidecar_max_port = 21255;
  } ports;

  std::string log_level = "info";  // trace, debug, info, warn, err
  bool log_json = false;
  bool ui = false;
  bool enable_script_checks = false;
  bool enable_local_script_checks = false;
  bool connect_enabled = true;
  std::string domain = "consul.";
  std::map<std::string, std::string> node_meta;
  std::chrono::nanoseconds default_query_time = std::chrono::seconds(300);
  std::chrono::nanoseconds max_query_time = std::chrono::seconds(600);
  uint64_t kv_max_value_size = 524288;
  uint64_t txn_max_req_len = 524288;
  bool acl_enabled = false;
  std::string acl_default_policy = "allow";
  bool pretty_json = false;

  // Service and check definitions as written (either key spelling): the agent decodes them with
  // the HTTP API's decoder.
  std::vector<nlohmann::json> services;
  std::vector<nlohmann::json> checks;

  // The whole merged configuration with canonical key names, for features that read keys not
  // modelled above (dns_config, connect.ca_config, config_entries, ...).
  nlohmann::json merged = nlohmann::json::object();

  // "<file>:<line>: config key \"x\" is accepted but not implemented yet; ignored", and such.
  std::vector<std::string> warnings;
};

struct LoadOptions {
  std::string hostname;  // default node name; empty: ask the system
};

// `args` are the arguments after `trellis agent`.
Result<AgentConfig> loadAgentConfig(const std::vector<std::string>& args);
Result<AgentConfig> loadAgentConfig(const std::vector<std::string>& args,
                                    const LoadOptions& options);

}  // namespace trellis::config
