#pragma once
// Data-plane counters: plain atomics (relaxed) owned by a registry that outlives config pushes, so
// a listener or cluster keeps its numbers when its config changes. Compiled listeners and clusters
// hold shared_ptrs to their stats; the per-connection path never locks.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace trellis::proxy::data {

using Counter = std::atomic<uint64_t>;
using Gauge = std::atomic<int64_t>;

// Why a TLS handshake (or the identity checks right after it) failed.
enum class TlsFailure {
  kNotTls,             // plain text or garbage where a ClientHello belongs
  kNoPeerCertificate,  // inbound: the client sent none
  kUntrusted,          // chain does not verify against the trusted roots (other CA)
  kExpired,
  kNotYetValid,
  kNoSpiffeId,          // certificate carries no spiffe:// URI SAN
  kForeignTrustDomain,  // inbound: SPIFFE ID outside the listener's trust domains
  kIdentityMismatch,    // outbound: server's URI SAN is not an expected one
  kSniMismatch,         // inbound: SNI not among the listener's server names
  kPeerAlert,           // the peer aborted the handshake (it rejected us)
  kPeerClosed,          // connection closed mid-handshake
  kTimeout,
  kOther,
  kCount,
};
std::string_view tlsFailureName(TlsFailure f);

struct TlsFailureCounters {
  std::array<Counter, static_cast<size_t>(TlsFailure::kCount)> by_reason{};
  void inc(TlsFailure f) {
    by_reason[static_cast<size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t get(TlsFailure f) const { return by_reason[static_cast<size_t>(f)].load(); }
};

struct ListenerStats {
  Counter connections_total{0};
  Gauge connections_active{0};
  Counter bytes_received{0};  // from downstream
  Counter bytes_sent{0};      // to downstream
  Counter rbac_allowed{0};
  Counter rbac_denied{0};
  Counter rbac_closed_existing{0};  // open connections closed by a policy change
  Counter idle_timeouts{0};
  // trellis-mux/1 (inbound): sessions from Trellis sidecars (each also counts as one downstream
  // connection), and the streams they carried (each one connection to the cluster behind).
  Counter mux_sessions_total{0};
  Gauge mux_sessions_active{0};
  Counter mux_streams_total{0};
  Gauge mux_streams_active{0};
  TlsFailureCounters tls_failures;
};

struct ClusterStats {
  Counter connections_total{0};
  Gauge connections_active{0};
  Counter bytes_sent{0};      // to upstream
  Counter bytes_received{0};  // from upstream
  Counter connect_failures{0};
  Counter connect_timeouts{0};
  Counter no_healthy_endpoint{0};
  Counter tls_resumed{0};
  // trellis-mux/1 (outbound): sessions opened to endpoints (connections_* count streams then),
  // and handshakes where the endpoint declined the protocol.
  Counter mux_sessions_total{0};
  Gauge mux_sessions_active{0};
  Counter mux_fallbacks{0};
  TlsFailureCounters tls_failures;
};

class StatsRegistry {
 public:
  std::shared_ptr<ListenerStats> listener(const std::string& name);
  std::shared_ptr<ClusterStats> cluster(const std::string& name);
  // Lookups that never create (null when unknown).
  std::shared_ptr<const ListenerStats> listenerOrNull(const std::string& name) const;
  std::shared_ptr<const ClusterStats> clusterOrNull(const std::string& name) const;
  void setGeneration(uint64_t g) { generation_.store(g); }
  uint64_t generation() const { return generation_.load(); }

  // Prometheus text exposition format 0.0.4.
  std::string renderPrometheus() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ListenerStats>> listeners_;
  std::map<std::string, std::shared_ptr<ClusterStats>> clusters_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace trellis::proxy::data
