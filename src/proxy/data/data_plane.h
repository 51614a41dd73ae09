#pragma once
// trellis-proxy's data plane: worker threads running the listeners and connections of the applied
// ProxyConfig. This is the seam the xDS client (src/proxy/xds) drives and the admin listener reads.
//
//   DataPlane dp({.workers = 2});
//   Status s = dp.apply(config);  // any thread, any time; returns what was dropped, if anything
//   ...
//   dp.stop(std::chrono::seconds(5));  // drain, then close what is left
//
// apply() compiles the config on the calling thread (TLS contexts, RBAC regexes), binds the new
// listeners' SO_REUSEPORT sockets (one per worker), then posts the snapshot to every worker. It
// is serialised internally; workers never lock. Listeners keep their sockets when name, address
// and port are unchanged; removed listeners stop accepting while their connections finish.
//
// Depends on Boost.Asio, OpenSSL, RE2 and src/common only: nothing from the control plane.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "proxy/config.h"
#include "proxy/data/compiled_config.h"
#include "proxy/data/stats.h"
#include "proxy/data/tls_context.h"

namespace trellis::proxy::data {

class Worker;

struct DataPlaneOptions {
  size_t workers = 0;               // 0: std::thread::hardware_concurrency()
  size_t buffer_bytes = 64 * 1024;  // per direction per connection: the backpressure bound
  std::chrono::milliseconds handshake_timeout{10000};
  // Re-check open inbound connections when a listener's RBAC changes; close the now-denied ones.
  bool enforce_on_existing = true;
  // trellis-mux/1 between Trellis sidecars: many connections over one mTLS connection per
  // upstream endpoint and worker (mux_session.h). Peers that do not speak it are detected.
  bool mux = true;
  // Sessions per upstream endpoint and worker; streams go to the least loaded one.
  size_t mux_sessions_per_endpoint = 1;
};

class DataPlane {
 public:
  // Starts the worker threads (idle until the first apply). Ignores SIGPIPE process-wide: TLS
  // writes go through OpenSSL's socket BIO, which cannot pass MSG_NOSIGNAL.
  explicit DataPlane(DataPlaneOptions options = {});
  ~DataPlane();  // stop(0) unless stopped
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  // Applies `config`. A listener or cluster that fails to compile keeps its previous version (or
  // is left out when it is new); one that fails to bind is left out; the rest is applied, and the
  // returned status lists the failures (kInvalidArgument) so the caller can NACK with a reason.
  // Thread-safe.
  Status apply(ProxyConfigPtr config);

  // Stops accepting, lets open connections finish for up to `deadline`, then closes the rest and
  // joins the workers. Idempotent.
  void stop(std::chrono::milliseconds deadline);

  // True once an applied config has at least one open listener (the admin /ready).
  bool ready() const;
  ProxyConfigPtr current() const;
  // The port a listener is bound to (differs from the config's when that asked for port 0); 0 when
  // the listener is not open.
  uint16_t listenerPort(const std::string& name) const;
  size_t activeConnections() const;
  // Inbound trellis-mux/1 sessions per worker (balanced: see Worker::adoptMuxServer).
  std::vector<size_t> muxSessionsPerWorker() const;

  const StatsRegistry& stats() const { return stats_; }
  std::string renderPrometheus() const { return stats_.renderPrometheus(); }
  size_t tlsContextBuilds() const { return tls_cache_.builds(); }

 private:
  struct Bound {
    std::string address;
    uint16_t configured_port = 0;
    uint16_t port = 0;
  };

  DataPlaneOptions options_;
  StatsRegistry stats_;
  mutable TlsContextCache tls_cache_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;  // serialises apply/stop; guards the fields below
  ProxyConfigPtr current_;
  CompiledConfigPtr compiled_;
  std::map<std::string, Bound> bound_;
  bool stopped_ = false;
};

}  // namespace trellis::proxy::data
