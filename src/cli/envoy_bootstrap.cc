#include "cli/envoy_bootstrap.h"

namespace trellis::cli {
namespace {

using OJson = nlohmann::ordered_json;

OJson socketAddress(const std::string& address, uint16_t port) {
  return OJson{{"socket_address", OJson{{"address", address}, {"port_value", port}}}};
}

// Consul takes these keys as text spliced into a JSON array, so "{...},{...}" is two entries.
Result<OJson> parseObjectList(const std::string& text, std::string_view key) {
  OJson list;
  try {
    list = OJson::parse("[" + text + "]");
  } catch (const nlohmann::json::exception& e) {
    return invalidArgument("failed to parse Proxy.Config." + std::string(key) + ": " + e.what());
  }
  for (const auto& item : list) {
    if (!item.is_object()) {
      return invalidArgument("Proxy.Config." + std::string(key) +
                             " must hold JSON objects separated by commas");
    }
  }
  return list;
}

OJson localAgentCluster(const EnvoyBootstrapInput& in) {
  OJson endpoint{{"endpoint", OJson{{"address", socketAddress(in.agentAddress, in.agentPort)}}}};
  OJson cluster;
  cluster["name"] = kLocalAgentCluster;
  cluster["ignore_health_on_host_removal"] = false;
  cluster["connect_timeout"] = "1s";
  cluster["type"] = "STATIC";
  // xDS is gRPC: Envoy must speak HTTP/2 to the agent.
  cluster["http2_protocol_options"] = OJson::object();
  cluster["load_assignment"] = OJson{
      {"cluster_name", kLocalAgentCluster},
      {"endpoints", OJson::array({OJson{{"lb_endpoints", OJson::array({endpoint})}}})}};
  return cluster;
}

OJson fixedTag(std::string_view name, const std::string& value) {
  return OJson{{"tag_name", name}, {"fixed_value", value}};
}

OJson statsConfig(const EnvoyBootstrapInput& in) {
  OJson tags = OJson::array();
  tags.push_back(fixedTag("local_cluster", in.cluster));
  tags.push_back(fixedTag("consul.source.service", in.cluster));
  tags.push_back(fixedTag("consul.source.namespace", in.nameSpace));
  tags.push_back(fixedTag("consul.source.partition", in.partition));
  tags.push_back(fixedTag("consul.source.datacenter", in.datacenter));
  return OJson{{"stats_tags", tags}, {"use_all_default_tags", true}};
}

OJson adsSource() {
  // initial_fetch_timeout 0s: Envoy waits for the first answer however long the agent takes
  // (a fresh proxy may need a leaf certificate signed first) instead of starting empty.
  return OJson{{"ads", OJson::object()},
               {"initial_fetch_timeout", "0s"},
               {"resource_api_version", "V3"}};
}

OJson dynamicResources(const EnvoyBootstrapInput& in) {
  OJson grpc;
  if (!in.token.empty()) {
    grpc["initial_metadata"] =
        OJson::array({OJson{{"key", "x-consul-token"}, {"value", in.token}}});
  }
  grpc["envoy_grpc"] = OJson{{"cluster_name", kLocalAgentCluster}};
  OJson ads{{"api_type", "DELTA_GRPC"}, {"transport_api_version", "V3"}, {"grpc_services", grpc}};
  return OJson{{"lds_config", adsSource()}, {"cds_config", adsSource()}, {"ads_config", ads}};
}

}  // namespace

Result<nlohmann::ordered_json> buildEnvoyBootstrap(const EnvoyBootstrapInput& in) {
  OJson clusters = OJson::array({localAgentCluster(in)});
  if (!in.extraStaticClustersJson.empty()) {
    auto extra = parseObjectList(in.extraStaticClustersJson, "envoy_extra_static_clusters_json");
    if (!extra) return extra.status();
    for (auto& c : *extra) clusters.push_back(std::move(c));
  }
  OJson statics{{"clusters", clusters}};
  if (!in.extraStaticListenersJson.empty()) {
    auto extra =
        parseObjectList(in.extraStaticListenersJson, "envoy_extra_static_listeners_json");
    if (!extra) return extra.status();
    statics["listeners"] = std::move(*extra);
  }

  OJson out;
  out["admin"] = OJson{{"access_log_path", in.adminAccessLogPath},
                       {"address", socketAddress(in.adminAddress, in.adminPort)}};
  out["node"] = OJson{
      {"cluster", in.cluster},
      {"id", in.proxyId},
      {"metadata", OJson{{"namespace", in.nameSpace}, {"partition", in.partition}}}};
  // RE2 programs from route regexes can exceed Envoy's default size limit; raise it to what
  // Consul's bootstrap allows so the same routes load.
  out["layered_runtime"] = OJson{
      {"layers", OJson::array({OJson{
                     {"name", "base"},
                     {"static_layer", OJson{{"re2.max_program_size.error_level", 1048576}}}}})}};
  out["static_resources"] = std::move(statics);
  out["stats_config"] = statsConfig(in);
  if (!in.statsFlushInterval.empty()) out["stats_flush_interval"] = in.statsFlushInterval;
  out["dynamic_resources"] = dynamicResources(in);
  return out;
}

}  // namespace trellis::cli
