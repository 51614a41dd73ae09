#include "proxy/xds/ingest.h"

#include "proxy/xds/pem.h"

#include <set>

namespace trellis::proxy::xds {

namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;

const std::string& nameOf(const ParsedListener& p) { return p.listener.name; }
const std::string& nameOf(const ParsedCluster& p) { return p.cluster.name; }
const std::string& nameOf(const ParsedAssignment& p) { return p.cluster_name; }
const std::string& nameOf(const ParsedSecret& p) { return p.name; }

// Parses, translates and stores every resource of `response` into `held`, then applies its
// removals. `held` is a copy the caller discards on error. `seen` gets the names updated.
template <class Proto, class Parsed, class Map, class Translate>
Status upsert(const Ingest::Response& response, Map& held, Translate translate,
              std::set<std::string>& seen) {
  for (const auto& r : response.resources()) {
    const std::string shown = r.name().substr(0, 200);
    if (!r.has_resource()) return invalidArgument("resource '" + shown + "' has no body");
    if (r.resource().type_url() != response.type_url()) {
      return invalidArgument("resource '" + shown + "' has type " +
                             r.resource().type_url().substr(0, 200) + ", not the response's");
    }
    Proto proto;
    if (!proto.ParseFromString(r.resource().value())) {
      return invalidArgument("resource '" + shown + "' does not parse");
    }
    Result<Parsed> parsed = translate(proto);
    if (!parsed) return parsed.status();
    const std::string name = nameOf(*parsed);
    if (!r.name().empty() && r.name() != name) {
      return invalidArgument("resource '" + shown + "' carries '" + name.substr(0, 200) + "'");
    }
    if (!seen.insert(name).second) return invalidArgument("resource '" + shown + "' is repeated");
    held[name] = {std::move(*parsed), r.version()};
  }
  for (const auto& name : response.removed_resources()) {
    if (seen.contains(name)) {
      return invalidArgument("resource '" + name.substr(0, 200) + "' is updated and removed");
    }
    held.erase(name);
  }
  return Status::ok();
}

template <class Map>
std::map<std::string, std::string> versionsOf(const Map& held) {
  std::map<std::string, std::string> out;
  for (const auto& [name, h] : held) out[name] = h.version;
  return out;
}

}  // namespace

Ingest::Ingest() : current_(std::make_shared<const ProxyConfig>()) {}

Status Ingest::applyTo(State& state, const Response& response) {
  const std::string& type = response.type_url();
  std::set<std::string> seen;
  if (type == kListenerType) {
    auto s = upsert<envoy::config::listener::v3::Listener, ParsedListener>(
        response, state.listeners, translateListener, seen);
    if (!s || !state.clusters_known) return s;
    // Only the listeners of this update: a cluster removed under an older one is the data
    // plane's to handle (it refuses connections), as in Envoy.
    for (const auto& name : seen) {
      const std::string& cluster = state.listeners.at(name).parsed.listener.cluster;
      if (!state.clusters.contains(cluster)) {
        return invalidArgument("listener " + name + ": unknown cluster " + cluster);
      }
    }
    return Status::ok();
  }
  if (type == kClusterType) {
    state.clusters_known = true;
    return upsert<envoy::config::cluster::v3::Cluster, ParsedCluster>(response, state.clusters,
                                                                      translateCluster, seen);
  }
  if (type == kEndpointType) {
    auto s = upsert<envoy::config::endpoint::v3::ClusterLoadAssignment, ParsedAssignment>(
        response, state.assignments, translateAssignment, seen);
    if (!s) return s;
    for (const auto& name : seen) state.absent_assignments.erase(name);
    for (const auto& name : response.removed_resources()) state.absent_assignments.insert(name);
    return Status::ok();
  }
  if (type == kSecretType) {
    return upsert<tls::Secret, ParsedSecret>(response, state.secrets, translateSecret, seen);
  }
  if (type == kRouteType) {
    // Only HTTP listeners name routes, and those are rejected; accepting keeps the stream calm.
    for (const auto& r : response.resources()) state.routes[r.name()] = r.version();
    for (const auto& name : response.removed_resources()) state.routes.erase(name);
    return Status::ok();
  }
  return invalidArgument("unsupported type " + type.substr(0, 200));
}

Result<ProxyConfigPtr> Ingest::apply(const Response& response) {
  State next = state_;
  if (auto s = applyTo(next, response); !s) return s;
  next.system_versions[response.type_url()] = response.system_version_info();
  state_ = std::move(next);
  current_ = build(state_);
  return current_;
}

bool Ingest::resolveTls(const State& state, const TlsRefs& refs, TlsMaterial& out) {
  out = refs.material;
  if (!refs.cert_secret.empty()) {
    auto it = state.secrets.find(refs.cert_secret);
    if (it == state.secrets.end() || !it->second.parsed.has_certificate) return false;
    out.cert_chain_pem = it->second.parsed.cert_chain_pem;
    out.private_key_pem = it->second.parsed.private_key_pem;
  }
  if (!refs.ca_secret.empty()) {
    auto it = state.secrets.find(refs.ca_secret);
    if (it == state.secrets.end() || !it->second.parsed.has_validation) return false;
    out.trusted_ca_pem = it->second.parsed.trusted_ca_pem;
  }
  return true;
}

ProxyConfigPtr Ingest::build(const State& state) const {
  auto config = std::make_shared<ProxyConfig>();
  const ProxyConfig& previous = *current_;
  for (const auto& [name, held] : state.clusters) {
    Cluster cluster = held.parsed.cluster;
    bool ready = resolveTls(state, held.parsed.tls, cluster.tls_material);
    if (cluster.eds) {
      if (auto it = state.assignments.find(held.parsed.eds_name); it != state.assignments.end()) {
        cluster.endpoints = it->second.parsed.endpoints;
      } else {
        ready &= state.absent_assignments.contains(held.parsed.eds_name);
      }
    }
    if (ready) {
      config->clusters.emplace(name, std::move(cluster));
    } else if (auto it = previous.clusters.find(name); it != previous.clusters.end()) {
      config->clusters.emplace(name, it->second);
    }
  }
  for (const auto& [name, held] : state.listeners) {
    Listener listener = held.parsed.listener;
    // A listener waits for its cluster as it waits for its secrets (Envoy's warming): opened
    // before the cluster's endpoints arrive, it would accept connections only to drop them.
    const bool cluster_ready = config->clusters.contains(listener.cluster);
    if (cluster_ready && resolveTls(state, held.parsed.tls, listener.tls_material)) {
      // Inbound peers must belong to a trust domain our roots vouch for: a root's SPIFFE URI
      // names it. Roots without one (an external CA) leave the check to chain verification.
      if (listener.require_client_certificate && listener.trust_domains.empty()) {
        listener.trust_domains = spiffeTrustDomains(listener.tls_material.trusted_ca_pem);
      }
      config->listeners.emplace(name, std::move(listener));
    } else if (auto it = previous.listeners.find(name); it != previous.listeners.end()) {
      config->listeners.emplace(name, it->second);
    }
  }
  config->versions = state.system_versions;
  config->generation = previous.generation + 1;
  return config;
}

void Ingest::forget(std::string_view type_url, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (type_url == kEndpointType) {
      state_.assignments.erase(name);
      state_.absent_assignments.erase(name);
    } else if (type_url == kSecretType) {
      state_.secrets.erase(name);
    }
  }
}

std::set<std::string> Ingest::wantedAssignments() const {
  std::set<std::string> out;
  for (const auto& [name, held] : state_.clusters) {
    if (held.parsed.cluster.eds) out.insert(held.parsed.eds_name);
  }
  return out;
}

std::set<std::string> Ingest::wantedSecrets() const {
  std::set<std::string> out;
  auto add = [&out](const TlsRefs& refs) {
    if (!refs.cert_secret.empty()) out.insert(refs.cert_secret);
    if (!refs.ca_secret.empty()) out.insert(refs.ca_secret);
  };
  for (const auto& [name, held] : state_.clusters) add(held.parsed.tls);
  for (const auto& [name, held] : state_.listeners) add(held.parsed.tls);
  return out;
}

std::map<std::string, std::string> Ingest::resourceVersions(std::string_view type_url) const {
  if (type_url == kListenerType) return versionsOf(state_.listeners);
  if (type_url == kClusterType) return versionsOf(state_.clusters);
  if (type_url == kEndpointType) return versionsOf(state_.assignments);
  if (type_url == kSecretType) return versionsOf(state_.secrets);
  if (type_url == kRouteType) return state_.routes;
  return {};
}

}  // namespace trellis::proxy::xds
