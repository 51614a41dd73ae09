#pragma once
// DNS settings, read once from the agent configuration (domain, alt_domain, recursors and the
// dns_config block) and frozen. Everything that can be wrong in them is reported here, so the
// query path cannot fail on configuration.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/agent_config.h"
#include "dns/message.h"

namespace trellis::dns {

struct Recursor {
  std::string address;  // IPv4 or IPv6 literal
  uint16_t port = 53;
};

struct DnsConfig {
  std::string datacenter = "dc1";
  Name domain = {"consul"};
  Name alt_domain;  // empty: none
  bool allow_stale = true;
  bool only_passing = false;
  bool enable_truncate = false;
  bool enable_additional_node_meta_txt = true;
  uint32_t node_ttl = 0;  // seconds
  // Exact service names, "prefix*" patterns and "*"; the exact name wins, then the longest
  // prefix, then "*".
  std::map<std::string, uint32_t> service_ttl;
  size_t a_record_limit = 0;    // 0: unlimited
  size_t udp_answer_limit = 3;  // applies to UDP queries without EDNS0, as in Consul
  struct Soa {
    uint32_t refresh = 3600, retry = 600, expire = 86400, min_ttl = 0;
  } soa;
  std::vector<Recursor> recursors;
  bool recursor_random = false;  // recursor_strategy = "random"
  std::chrono::milliseconds recursor_timeout{2000};
};

Result<DnsConfig> dnsConfigFrom(const config::AgentConfig& cfg);

// TTL for a service answer under `cfg.service_ttl`.
uint32_t serviceTtl(const DnsConfig& cfg, const std::string& service);

}  // namespace trellis::dns
