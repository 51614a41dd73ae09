#include <nlohmann/json.hpp>

#include "proxy/data/admin.h"

namespace trellis::proxy::data {
namespace {

using json = nlohmann::json;

json tlsJson(const TlsMaterial& m) {
  return {{"cert_chain_pem", m.cert_chain_pem},
          {"private_key_pem", m.private_key_pem.empty() ? "" : "[redacted]"},
          {"trusted_ca_pem", m.trusted_ca_pem}};
}

const char* kindName(Principal::Kind k) {
  switch (k) {
    case Principal::Kind::kAny:
      return "any";
    case Principal::Kind::kUriRegex:
      return "uri_regex";
    case Principal::Kind::kUriExact:
      return "uri_exact";
    case Principal::Kind::kAnd:
      return "and_ids";
    case Principal::Kind::kOr:
      return "or_ids";
    case Principal::Kind::kNot:
      return "not_id";
  }
  return "?";
}

// Principals nest at most as deep as RBAC compilation allowed (kMaxPrincipalDepth), but the dump
// may run on a config that was dropped for being too deep, so it stops on its own.
json principalJson(const Principal& p, int depth) {
  json j = {{"kind", kindName(p.kind)}};
  if (!p.pattern.empty()) j["pattern"] = p.pattern;
  if (!p.ids.empty()) {
    if (depth > 32) {
      j["ids"] = "[too deep]";
    } else {
      j["ids"] = json::array();
      for (const auto& c : p.ids) j["ids"].push_back(principalJson(c, depth + 1));
    }
  }
  return j;
}

json rbacJson(const Rbac& r) {
  json policies = json::array();
  for (const auto& p : r.policies) {
    json principals = json::array();
    for (const auto& pr : p.principals) principals.push_back(principalJson(pr, 0));
    policies.push_back({{"name", p.name}, {"principals", principals}});
  }
  return {{"action", r.action == Rbac::Action::kAllow ? "ALLOW" : "DENY"},
          {"stat_prefix", r.stat_prefix},
          {"policies", policies}};
}

}  // namespace

std::string configDumpJson(const ProxyConfig& config) {
  json out;
  out["generation"] = config.generation;
  out["versions"] = config.versions;
  json listeners = json::array();
  for (const auto& [name, l] : config.listeners) {
    json j = {{"name", l.name},
              {"address", l.address},
              {"port", l.port},
              {"direction", l.direction == Listener::Direction::kInbound ? "inbound" : "outbound"},
              {"cluster", l.cluster},
              {"stat_prefix", l.stat_prefix},
              {"idle_timeout_ms", l.idle_timeout.count()},
              {"max_connect_attempts", l.max_connect_attempts},
              {"tls", l.tls}};
    if (l.tls) {
      j["require_client_certificate"] = l.require_client_certificate;
      j["tls_material"] = tlsJson(l.tls_material);
      j["trust_domains"] = l.trust_domains;
      j["server_names"] = l.server_names;
    }
    if (l.has_rbac) j["rbac"] = rbacJson(l.rbac);
    listeners.push_back(std::move(j));
  }
  out["listeners"] = std::move(listeners);
  json clusters = json::array();
  for (const auto& [name, c] : config.clusters) {
    json endpoints = json::array();
    for (const auto& e : c.endpoints) {
      endpoints.push_back(
          {{"address", e.address}, {"port", e.port}, {"healthy", e.healthy}, {"weight", e.weight}});
    }
    json j = {
        {"name", c.name},
        {"lb_policy", c.lb == Cluster::LbPolicy::kRoundRobin ? "ROUND_ROBIN" : "LEAST_REQUEST"},
        {"connect_timeout_ms", c.connect_timeout.count()},
        {"eds", c.eds},
        {"endpoints", endpoints},
        {"tls", c.tls}};
    if (c.tls) {
      j["tls_material"] = tlsJson(c.tls_material);
      j["sni"] = c.sni;
      j["expected_sans"] = c.expected_sans;
    }
    clusters.push_back(std::move(j));
  }
  out["clusters"] = std::move(clusters);
  // Replace invalid UTF-8 instead of throwing: names arrive from the network.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace trellis::proxy::data
