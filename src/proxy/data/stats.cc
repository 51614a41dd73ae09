#include "proxy/data/stats.h"

#include <functional>

namespace trellis::proxy::data {

std::string_view tlsFailureName(TlsFailure f) {
  switch (f) {
    case TlsFailure::kNotTls:
      return "not_tls";
    case TlsFailure::kNoPeerCertificate:
      return "no_peer_certificate";
    case TlsFailure::kUntrusted:
      return "untrusted";
    case TlsFailure::kExpired:
      return "expired";
    case TlsFailure::kNotYetValid:
      return "not_yet_valid";
    case TlsFailure::kNoSpiffeId:
      return "no_spiffe_id";
    case TlsFailure::kForeignTrustDomain:
      return "foreign_trust_domain";
    case TlsFailure::kIdentityMismatch:
      return "identity_mismatch";
    case TlsFailure::kSniMismatch:
      return "sni_mismatch";
    case TlsFailure::kPeerAlert:
      return "peer_alert";
    case TlsFailure::kPeerClosed:
      return "peer_closed";
    case TlsFailure::kTimeout:
      return "timeout";
    case TlsFailure::kOther:
      return "other";
    case TlsFailure::kCount:
      break;
  }
  return "unknown";
}

std::shared_ptr<ListenerStats> StatsRegistry::listener(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& s = listeners_[name];
  if (!s) s = std::make_shared<ListenerStats>();
  return s;
}

std::shared_ptr<ClusterStats> StatsRegistry::cluster(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& s = clusters_[name];
  if (!s) s = std::make_shared<ClusterStats>();
  return s;
}

std::shared_ptr<const ListenerStats> StatsRegistry::listenerOrNull(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = listeners_.find(name);
  return it == listeners_.end() ? nullptr : it->second;
}

std::shared_ptr<const ClusterStats> StatsRegistry::clusterOrNull(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

namespace {

std::string escapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

template <typename Stats>
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::string_view label, const std::map<std::string, std::shared_ptr<Stats>>& rows,
            const std::function<int64_t(const Stats&)>& get) {
  out += "# HELP trellis_proxy_";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE trellis_proxy_";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  for (const auto& [key, s] : rows) {
    out += "trellis_proxy_" + std::string(name) + "{" + std::string(label) + "=\"" +
           escapeLabel(key) + "\"} " + std::to_string(get(*s)) + "\n";
  }
}

template <typename Stats>
void tlsFamily(std::string& out, std::string_view name, std::string_view label,
               const std::map<std::string, std::shared_ptr<Stats>>& rows) {
  out += "# HELP trellis_proxy_" + std::string(name) + " TLS handshake failures by reason.\n";
  out += "# TYPE trellis_proxy_" + std::string(name) + " counter\n";
  for (const auto& [key, s] : rows) {
    for (size_t r = 0; r < static_cast<size_t>(TlsFailure::kCount); ++r) {
      const uint64_t v = s->tls_failures.by_reason[r].load(std::memory_order_relaxed);
      if (v == 0) continue;
      out += "trellis_proxy_" + std::string(name) + "{" + std::string(label) + "=\"" +
             escapeLabel(key) + "\",reason=\"" +
             std::string(tlsFailureName(static_cast<TlsFailure>(r))) + "\"} " + std::to_string(v) +
             "\n";
    }
  }
}

}  // namespace

std::string StatsRegistry::renderPrometheus() const {
  std::map<std::string, std::shared_ptr<ListenerStats>> listeners;
  std::map<std::string, std::shared_ptr<ClusterStats>> clusters;
  {
    std::lock_guard lock(mu_);
    listeners = listeners_;
    clusters = clusters_;
  }
  using L = ListenerStats;
  using C = ClusterStats;
  auto r = [](const auto& c) { return static_cast<int64_t>(c.load(std::memory_order_relaxed)); };
  std::string out;
  out += "# HELP trellis_proxy_config_generation Generation of the applied proxy config.\n";
  out += "# TYPE trellis_proxy_config_generation gauge\n";
  out += "trellis_proxy_config_generation " + std::to_string(generation()) + "\n";
  const std::string_view l = "listener";
  family<L>(out, "listener_connections_total", "counter", "Downstream connections accepted.", l,
            listeners, [&](const L& s) { return r(s.connections_total); });
  family<L>(out, "listener_connections_active", "gauge", "Open downstream connections.", l,
            listeners, [&](const L& s) { return r(s.connections_active); });
  family<L>(out, "listener_bytes_received_total", "counter", "Bytes read from downstream.", l,
            listeners, [&](const L& s) { return r(s.bytes_received); });
  family<L>(out, "listener_bytes_sent_total", "counter", "Bytes written to downstream.", l,
            listeners, [&](const L& s) { return r(s.bytes_sent); });
  family<L>(out, "rbac_allowed_total", "counter", "Connections allowed by RBAC.", l, listeners,
            [&](const L& s) { return r(s.rbac_allowed); });
  family<L>(out, "rbac_denied_total", "counter", "Connections denied by RBAC.", l, listeners,
            [&](const L& s) { return r(s.rbac_denied); });
  family<L>(out, "rbac_closed_existing_total", "counter",
            "Open connections closed because a new policy denies them.", l, listeners,
            [&](const L& s) { return r(s.rbac_closed_existing); });
  family<L>(out, "listener_idle_timeouts_total", "counter", "Connections closed as idle.", l,
            listeners, [&](const L& s) { return r(s.idle_timeouts); });
  family<L>(out, "listener_mux_sessions_total", "counter",
            "trellis-mux/1 sessions accepted from Trellis sidecars.", l, listeners,
            [&](const L& s) { return r(s.mux_sessions_total); });
  family<L>(out, "listener_mux_sessions_active", "gauge", "Open inbound trellis-mux/1 sessions.", l,
            listeners, [&](const L& s) { return r(s.mux_sessions_active); });
  family<L>(out, "listener_mux_streams_total", "counter",
            "Streams carried by inbound trellis-mux/1 sessions.", l, listeners,
            [&](const L& s) { return r(s.mux_streams_total); });
  family<L>(out, "listener_mux_streams_active", "gauge",
            "Open streams of inbound trellis-mux/1 sessions.", l, listeners,
            [&](const L& s) { return r(s.mux_streams_active); });
  tlsFamily(out, "listener_tls_handshake_failures_total", l, listeners);
  const std::string_view c = "cluster";
  family<C>(out, "cluster_connections_total", "counter", "Upstream connections established.", c,
            clusters, [&](const C& s) { return r(s.connections_total); });
  family<C>(out, "cluster_connections_active", "gauge", "Open upstream connections.", c, clusters,
            [&](const C& s) { return r(s.connections_active); });
  family<C>(out, "cluster_bytes_sent_total", "counter", "Bytes written to upstream.", c, clusters,
            [&](const C& s) { return r(s.bytes_sent); });
  family<C>(out, "cluster_bytes_received_total", "counter", "Bytes read from upstream.", c,
            clusters, [&](const C& s) { return r(s.bytes_received); });
  family<C>(out, "cluster_upstream_connect_failures_total", "counter",
            "Failed upstream connect attempts.", c, clusters,
            [&](const C& s) { return r(s.connect_failures); });
  family<C>(out, "cluster_upstream_connect_timeouts_total", "counter",
            "Upstream connect attempts that timed out.", c, clusters,
            [&](const C& s) { return r(s.connect_timeouts); });
  family<C>(out, "cluster_no_healthy_endpoint_total", "counter",
            "Connections dropped because no endpoint was left to try.", c, clusters,
            [&](const C& s) { return r(s.no_healthy_endpoint); });
  family<C>(out, "cluster_tls_sessions_resumed_total", "counter",
            "Upstream TLS handshakes that resumed a session.", c, clusters,
            [&](const C& s) { return r(s.tls_resumed); });
  family<C>(out, "cluster_mux_sessions_total", "counter",
            "trellis-mux/1 sessions opened to upstream endpoints.", c, clusters,
            [&](const C& s) { return r(s.mux_sessions_total); });
  family<C>(out, "cluster_mux_sessions_active", "gauge", "Open outbound trellis-mux/1 sessions.", c,
            clusters, [&](const C& s) { return r(s.mux_sessions_active); });
  family<C>(out, "cluster_mux_fallbacks_total", "counter",
            "Upstream handshakes where the endpoint declined trellis-mux/1.", c, clusters,
            [&](const C& s) { return r(s.mux_fallbacks); });
  tlsFamily(out, "cluster_tls_handshake_failures_total", c, clusters);
  return out;
}

}  // namespace trellis::proxy::data
