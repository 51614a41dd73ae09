#pragma once
// A ProxyConfig compiled for the workers: TLS contexts loaded, RBAC regexes built, stats bound.
// Built once per apply() on the caller's thread (everything that can fail happens here); then
// immutable and shared by every worker. Connections hold the listener and cluster objects they
// started with, so a push never changes what an open connection uses.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config.h"
#include "proxy/data/rbac.h"
#include "proxy/data/stats.h"
#include "proxy/data/tls_context.h"

namespace trellis::proxy::data {

struct CompiledListener {
  ProxyConfigPtr source;  // keeps `config` alive
  const Listener* config = nullptr;
  TlsContextPtr tls;     // inbound TLS; null for plain listeners
  CompiledRbacPtr rbac;  // null without RBAC
  std::shared_ptr<ListenerStats> stats;
};

struct CompiledCluster {
  ProxyConfigPtr source;
  const Cluster* config = nullptr;
  TlsContextPtr tls;  // upstream TLS; null for plain clusters (local_app)
  std::shared_ptr<ClusterStats> stats;
};

struct CompiledConfig {
  ProxyConfigPtr source;
  std::map<std::string, std::shared_ptr<const CompiledListener>> listeners;
  std::map<std::string, std::shared_ptr<const CompiledCluster>> clusters;
};
using CompiledConfigPtr = std::shared_ptr<const CompiledConfig>;

struct CompileResult {
  CompiledConfigPtr config;
  std::vector<std::string> errors;  // one per dropped listener or cluster
};

// Fail small: a listener or cluster that does not compile is reported and keeps its previous
// compiled version from `previous` when there is one (what a NACK means in xDS), or is dropped;
// the rest of the config is still applied.
CompileResult compileConfig(const ProxyConfigPtr& source, const CompiledConfig* previous,
                            TlsContextCache& tls, StatsRegistry& stats);

}  // namespace trellis::proxy::data
