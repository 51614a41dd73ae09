#include "config/schema.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <algorithm>

#include <cctype>
#include <sstream>

#include "common/duration.h"

namespace trellis::config {
namespace {

using nlohmann::json;

KeySpec key(std::string name, KeyType type) {
  KeySpec s;
  s.name = std::move(name);
  s.type = type;
  return s;
}
KeySpec B(std::string n) { return key(std::move(n), KeyType::kBool); }
KeySpec I(std::string n) { return key(std::move(n), KeyType::kInt); }
KeySpec U(std::string n) { return key(std::move(n), KeyType::kUint); }
KeySpec F(std::string n) { return key(std::move(n), KeyType::kFloat); }
KeySpec S(std::string n) { return key(std::move(n), KeyType::kString); }
KeySpec D(std::string n) { return key(std::move(n), KeyType::kDuration); }
KeySpec SL(std::string n) { return key(std::move(n), KeyType::kStringList); }
KeySpec SM(std::string n) { return key(std::move(n), KeyType::kStringMap); }
KeySpec AM(std::string n) { return key(std::move(n), KeyType::kAnyMap); }
KeySpec OL(std::string n) { return key(std::move(n), KeyType::kObjectList); }
KeySpec ST(std::string n, std::vector<KeySpec> children) {
  KeySpec s = key(std::move(n), KeyType::kStruct);
  s.children = std::move(children);
  return s;
}
KeySpec STL(std::string n, std::vector<KeySpec> children) {
  KeySpec s = key(std::move(n), KeyType::kStructList);
  s.children = std::move(children);
  return s;
}
KeySpec impl(KeySpec s, ValueCheck check = nullptr) {
  s.implemented = true;
  s.check = check;
  return s;
}
KeySpec checked(KeySpec s, ValueCheck check) {
  s.check = check;
  return s;
}

std::string portCheck(const json& v) {
  int64_t p = v.get<int64_t>();
  if (p < -1 || p > 65535) return "port must be between -1 and 65535, got " + std::to_string(p);
  return "";
}

std::string logLevelCheck(const json& v) {
  std::string l = v.get<std::string>();
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "warning", "err", "error"};
  for (const char* k : kLevels) {
    if (l == k) return "";
  }
  return "log level must be one of trace, debug, info, warn, err; got \"" + v.get<std::string>() +
         "\"";
}

std::string caProviderCheck(const json& v) {
  return v.get<std::string>() == "consul" ? "" : "only the built-in \"consul\" CA provider is supported";
}

std::string policyCheck(const json& v) {
  const auto& p = v.get_ref<const std::string&>();
  if (p == "allow" || p == "deny") return "";
  return "must be \"allow\" or \"deny\", got \"" + p + "\"";
}

std::string nonNegativeCheck(const json& v) {
  if (v.get<int64_t>() < 0) return "must not be negative";
  return "";
}

std::string positiveCheck(const json& v) {
  if (v.get<uint64_t>() == 0) return "must be greater than 0";
  return "";
}

std::string positiveDurationCheck(const json& v) {
  auto d = parseGoDuration(v.get_ref<const std::string&>());
  if (!d || d->count() <= 0) return "must be a positive duration";
  return "";
}

std::string datacenterCheck(const json& v) {
  const auto& dc = v.get_ref<const std::string&>();
  if (dc.empty()) return "datacenter cannot be empty";
  for (char c : dc) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_') {
      return "datacenter may contain only letters, digits, '-' and '_'";
    }
  }
  return "";
}

std::string uuidCheck(const json& v) {
  const auto& id = v.get_ref<const std::string&>();
  if (id.empty()) return "";
  bool ok = id.size() == 36;
  for (size_t i = 0; ok && i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    ok = dash ? id[i] == '-' : std::isxdigit(static_cast<unsigned char>(id[i])) != 0;
  }
  return ok ? "" : "node_id must be a UUID like 8-4-4-4-12 hex digits, got \"" + id + "\"";
}

bool isIp(const std::string& s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string templateReason(const std::string& s) {
  if (s.find("{{") != std::string::npos) {
    return "go-sockaddr templates are not supported yet; give an IP address";
  }
  return "expected an IP address, got \"" + s + "\"";
}

// bind_addr, advertise_addr: one IP address (empty means "derive it").
std::string ipCheck(const json& v) {
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || isIp(s)) return "";
  return templateReason(s);
}

// client_addr and addresses.*: space-separated IPs or unix:// socket paths, as Consul allows.
std::string ipListCheck(const json& v) {
  std::istringstream in(v.get<std::string>());
  std::string word;
  while (in >> word) {
    if (word.rfind("unix://", 0) == 0 && word.size() > 7) continue;
    if (!isIp(word)) return templateReason(v.get<std::string>());
  }
  return "";
}

std::vector<KeySpec> tlsProtocol() {
  return {S("ca_file"),         S("ca_path"),         S("cert_file"),
          S("key_file"),        S("tls_min_version"), S("tls_cipher_suites"),
          B("verify_incoming"), B("verify_outgoing"), B("verify_server_hostname"),
          B("use_auto_cert")};
}

std::vector<KeySpec> gossip() {
  return {I("gossip_nodes"),  D("gossip_interval"), D("probe_interval"),
          D("probe_timeout"), I("suspicion_mult"),  I("retransmit_mult")};
}

std::vector<KeySpec> buildSchema() {
  auto port = [](const char* n) { return impl(I(n), portCheck); };
  return {
      ST("acl",
         {impl(B("enabled")), B("enable_token_replication"), D("policy_ttl"), D("role_ttl"),
          D("token_ttl"), S("down_policy"), impl(S("default_policy"), policyCheck),
          B("enable_key_list_policy"), D("disabled_ttl"), B("enable_token_persistence"),
          B("msp_disable_bootstrap"),
          ST("tokens", {S("initial_management"), S("replication"), S("agent_recovery"),
                        S("default"), S("agent"), S("config_file_service_registration"), S("dns"),
                        OL("managed_service_provider"), S("master"), S("agent_master")})}),
      ST("addresses",
         {impl(S("dns"), ipListCheck), impl(S("http"), ipListCheck), impl(S("https"), ipListCheck),
          impl(S("grpc"), ipListCheck), impl(S("grpc_tls"), ipListCheck)}),
      impl(S("advertise_addr"), ipCheck),
      S("advertise_addr_ipv4"),
      S("advertise_addr_ipv6"),
      S("advertise_addr_wan"),
      S("advertise_addr_wan_ipv4"),
      S("advertise_addr_wan_ipv6"),
      D("advertise_reconnect_timeout"),
      ST("audit", {B("enabled"), AM("sink")}),
      ST("auto_config",
         {B("enabled"), S("intro_token"), S("intro_token_file"), SL("server_addresses"),
          SL("dns_sans"), SL("ip_sans"),
          ST("authorization",
             {B("enabled"),
              ST("static",
                 {SL("claim_assertions"), B("allow_reuse"), SL("jwt_supported_algs"),
                  SL("bound_audiences"), SM("claim_mappings"), SM("list_claim_mappings"),
                  S("oidc_discovery_url"), S("oidc_discovery_ca_cert"), S("jwks_url"),
                  S("jwks_ca_cert"), SL("jwt_validation_pub_keys"), S("bound_issuer"),
                  D("expiration_leeway"), D("not_before_leeway"), D("clock_skew_leeway")})})}),
      ST("auto_encrypt", {B("tls"), SL("dns_san"), SL("ip_san"), B("allow_tls")}),
      B("auto_reload_config"),
      ST("autopilot",
         {B("cleanup_dead_servers"), D("last_contact_threshold"), I("max_trailing_logs"),
          U("min_quorum"), D("server_stabilization_time"), B("disable_upgrade_migration"),
          S("redundancy_zone_tag"), S("upgrade_version_tag")}),
      impl(S("bind_addr"), ipCheck),
      impl(B("bootstrap")),
      impl(I("bootstrap_expect"), nonNegativeCheck),
      ST("cache", {I("entry_fetch_max_burst"), F("entry_fetch_rate")}),
      impl(OL("check")),
      I("check_output_max_size"),
      D("check_update_interval"),
      impl(OL("checks")),
      impl(S("client_addr"), ipListCheck),
      AM("cloud"),
      ST("config_entries", {OL("bootstrap")}),
      ST("connect",
         {impl(B("enabled")), impl(S("ca_provider"), caProviderCheck), impl(AM("ca_config")),
          B("enable_mesh_gateway_wan_federation"), D("test_ca_leaf_root_change_spread")}),
      // src/dns reads these (dns::dnsConfigFrom); stale reads are the only kind it does.
      ST("dns_config",
         {impl(B("allow_stale")), impl(I("a_record_limit")), B("disable_compression"),
          impl(B("enable_truncate")), D("max_stale"), impl(D("node_ttl")), impl(B("only_passing")),
          impl(S("recursor_strategy")), impl(D("recursor_timeout")), impl(SM("service_ttl")),
          impl(I("udp_answer_limit")), impl(B("enable_additional_node_meta_txt")),
          ST("soa", {impl(U("refresh")), impl(U("retry")), impl(U("expire")), impl(U("min_ttl"))}),
          B("use_cache"), D("cache_max_age"), B("prefer_namespace")}),
      impl(S("domain")),
      impl(S("alt_domain")),
      impl(SL("recursors")),
      impl(S("data_dir")),
      impl(S("datacenter"), datacenterCheck),
      impl(D("default_query_time"), positiveDurationCheck),
      B("disable_anonymous_signature"),
      B("disable_coordinates"),
      B("disable_host_node_id"),
      B("disable_http_unprintable_char_filter"),
      B("disable_keyring_file"),
      B("disable_remote_exec"),
      B("disable_update_check"),
      B("discard_check_output"),
      D("discovery_max_stale"),
      B("enable_agent_tls_for_checks"),
      B("enable_central_service_config"),
      B("enable_debug"),
      impl(B("enable_script_checks")),
      impl(B("enable_local_script_checks")),
      B("enable_syslog"),
      S("encrypt"),
      B("encrypt_verify_incoming"),
      B("encrypt_verify_outgoing"),
      SL("experiments"),
      ST("gossip_lan", gossip()),
      ST("gossip_wan", gossip()),
      ST("http_config", {SL("block_endpoints"), SL("allow_write_http_from"), SM("response_headers"),
                         B("use_cache"), I("max_header_bytes")}),
      B("leave_on_terminate"),
      S("license_path"),
      ST("limits",
         {I("http_max_conns_per_client"), D("https_handshake_timeout"),
          ST("request_limits", {S("mode"), F("read_rate"), F("write_rate")}),
          D("rpc_client_timeout"), D("rpc_handshake_timeout"), I("rpc_max_burst"),
          I("rpc_max_conns_per_client"), F("rpc_rate"), impl(U("kv_max_value_size"), positiveCheck),
          impl(U("txn_max_req_len"), positiveCheck)}),
      ST("locality", {S("region"), S("zone")}),
      impl(S("log_level"), logLevelCheck),
      SM("log_sublevels"),
      impl(B("log_json")),
      S("log_file"),
      D("log_rotate_duration"),
      I("log_rotate_bytes"),
      I("log_rotate_max_files"),
      impl(D("max_query_time"), positiveDurationCheck),
      impl(S("node_id"), uuidCheck),
      impl(SM("node_meta")),
      impl(S("node_name")),
      ST("peering", {B("enabled"), B("test_allow_peer_registrations")}),
      ST("performance", {D("leave_drain_time"), I("raft_multiplier"), D("rpc_hold_timeout")}),
      S("pid_file"),
      ST("ports",
         {port("dns"), port("http"), port("https"), port("serf_lan"), port("serf_wan"),
          port("server"), port("grpc"), port("grpc_tls"), checked(I("proxy_min_port"), portCheck),
          checked(I("proxy_max_port"), portCheck), port("sidecar_min_port"),
          port("sidecar_max_port"), checked(I("expose_min_port"), portCheck),
          checked(I("expose_max_port"), portCheck)}),
      S("primary_datacenter"),
      SL("primary_gateways"),
      D("primary_gateways_interval"),
      I("protocol"),
      I("raft_protocol"),
      I("raft_snapshot_threshold"),
      D("raft_snapshot_interval"),
      I("raft_trailing_logs"),
      ST("raft_logstore",
         {S("backend"), B("disable_log_cache"), ST("verification", {B("enabled"), D("interval")}),
          ST("boltdb", {B("no_freelist_sync")}), ST("wal", {I("segment_size_mb")})}),
      ST("raft_boltdb", {B("no_freelist_sync")}),
      D("reconnect_timeout"),
      D("reconnect_timeout_wan"),
      B("rejoin_after_leave"),
      ST("reporting", {ST("license", {B("enabled")})}),
      D("retry_interval"),
      D("retry_interval_wan"),
      SL("retry_join"),
      I("retry_max"),
      I("retry_max_wan"),
      SL("retry_join_wan"),
      ST("rpc", {B("enable_streaming")}),
      SL("serf_lan_allowed_cidrs"),
      SL("serf_wan_allowed_cidrs"),
      S("serf_lan"),
      S("serf_wan"),
      impl(B("server")),
      S("server_name"),
      D("server_rejoin_age_max"),
      impl(OL("service")),
      impl(OL("services")),
      impl(D("session_ttl_min")),
      B("skip_leave_on_interrupt"),
      S("syslog_facility"),
      ST("tls", {ST("defaults", tlsProtocol()), ST("internal_rpc", tlsProtocol()),
                 ST("https", tlsProtocol()), ST("grpc", tlsProtocol())}),
      SM("tagged_addresses"),
      ST("telemetry", {S("circonus_api_app"),
                       S("circonus_api_token"),
                       S("circonus_api_url"),
                       S("circonus_broker_id"),
                       S("circonus_broker_select_tag"),
                       S("circonus_check_display_name"),
                       S("circonus_check_force_metric_activation"),
                       S("circonus_check_id"),
                       S("circonus_check_instance_id"),
                       S("circonus_check_search_tag"),
                       S("circonus_check_tags"),
                       S("circonus_submission_interval"),
                       S("circonus_submission_url"),
                       B("disable_hostname"),
                       B("disable_compat_1.9"),
                       S("dogstatsd_addr"),
                       SL("dogstatsd_tags"),
                       B("retry_failed_connection"),
                       B("filter_default"),
                       SL("prefix_filter"),
                       S("metrics_prefix"),
                       D("prometheus_retention_time"),
                       S("statsd_address"),
                       S("statsite_address")}),
      B("translate_wan_addrs"),
      ST("xds", {F("update_max_per_second")}),
      impl(B("ui")),
      S("ui_content_path"),
      S("ui_dir"),
      ST("ui_config",
         {impl(B("enabled")), S("dir"), S("content_path"), S("metrics_provider"),
          SL("metrics_provider_files"), S("metrics_provider_options_json"),
          ST("metrics_proxy", {S("base_url"), OL("add_headers"), SL("path_allowlist")}),
          SM("dashboard_url_templates")}),
      ST("unix_sockets", {S("group"), S("mode"), S("user")}),
      OL("watches"),
      B("use_streaming_backend"),
      AM("snapshot_agent"),
      // Not user-configurable in Consul, but its decoder accepts them.
      D("ae_interval"),
      D("check_deregister_interval_min"),
      D("check_reap_interval"),
      ST("consul",
         {ST("coordinate", {I("update_batch_size"), I("update_max_batches"), D("update_period")}),
          ST("raft", {D("election_timeout"), D("heartbeat_timeout"), D("leader_lease_timeout")}),
          ST("server", {D("health_interval")})}),
      S("revision"),
      I("segment_limit"),
      I("segment_name_limit"),
      D("sync_coordinate_interval_min"),
      F("sync_coordinate_rate_target"),
      S("version"),
      S("version_prerelease"),
      S("version_metadata"),
      S("build_date"),
      // Enterprise only; accepted so that shared config files load.
      B("read_replica"),
      B("non_voting_server"),
      S("segment"),
      STL("segments",
          {S("advertise"), S("bind"), S("name"), checked(I("port"), portCheck), B("rpc_listener")}),
      S("partition"),
      D("license_poll_base_time"),
      D("license_poll_max_time"),
      D("license_update_base_time"),
      D("license_update_max_time"),
      // Deprecated top-level keys (Consul maps them onto their new homes with a warning).
      S("acl_agent_master_token"),
      S("acl_agent_token"),
      S("acl_token"),
      B("acl_enable_key_list_policy"),
      S("acl_master_token"),
      S("acl_replication_token"),
      B("enable_acl_replication"),
      S("acl_datacenter"),
      S("acl_default_policy"),
      S("acl_down_policy"),
      D("acl_ttl"),
      D("acl_disabled_ttl"),
      S("ca_file"),
      S("ca_path"),
      S("cert_file"),
      S("key_file"),
      S("tls_cipher_suites"),
      S("tls_min_version"),
      B("verify_incoming"),
      B("verify_incoming_https"),
      B("verify_incoming_rpc"),
      B("verify_outgoing"),
      B("verify_server_hostname"),
      B("tls_prefer_server_cipher_suites"),
      SL("start_join"),
      SL("start_join_wan"),
  };
}

bool equalFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::vector<KeySpec>& agentConfigSchema() {
  static const std::vector<KeySpec> kSchema = buildSchema();
  return kSchema;
}

const KeySpec* findKey(const std::vector<KeySpec>& specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  for (const auto& s : specs) {
    if (equalFold(s.name, name)) return &s;
  }
  return nullptr;
}

}  // namespace trellis::config
