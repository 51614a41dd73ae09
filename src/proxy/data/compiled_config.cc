#include "proxy/data/compiled_config.h"

namespace trellis::proxy::data {

namespace {

template <typename Map>
void keepPrevious(const Map* previous, const std::string& name, Map& into) {
  if (previous == nullptr) return;
  if (auto it = previous->find(name); it != previous->end()) into.emplace(name, it->second);
}

}  // namespace

CompileResult compileConfig(const ProxyConfigPtr& source, const CompiledConfig* previous,
                            TlsContextCache& tls, StatsRegistry& stats) {
  CompileResult out;
  auto config = std::make_shared<CompiledConfig>();
  config->source = source;
  const auto* prev_listeners = previous ? &previous->listeners : nullptr;
  const auto* prev_clusters = previous ? &previous->clusters : nullptr;
  for (const auto& [name, l] : source->listeners) {
    auto cl = std::make_shared<CompiledListener>();
    cl->source = source;
    cl->config = &l;
    if (l.tls) {
      auto ctx = tls.get(l.tls_material, TlsRole::kServer, l.require_client_certificate);
      if (!ctx) {
        out.errors.push_back("listener " + name + ": " + ctx.status().message());
        keepPrevious(prev_listeners, name, config->listeners);
        continue;
      }
      cl->tls = std::move(ctx.value());
    }
    if (l.has_rbac) {
      auto rbac = CompiledRbac::compile(l.rbac);
      if (!rbac) {
        out.errors.push_back("listener " + name + ": " + rbac.status().message());
        keepPrevious(prev_listeners, name, config->listeners);
        continue;
      }
      cl->rbac = std::move(rbac.value());
    }
    cl->stats = stats.listener(name);
    config->listeners.emplace(name, std::move(cl));
  }
  for (const auto& [name, c] : source->clusters) {
    auto cc = std::make_shared<CompiledCluster>();
    cc->source = source;
    cc->config = &c;
    if (c.tls) {
      auto ctx = tls.get(c.tls_material, TlsRole::kClient, true);
      if (!ctx) {
        out.errors.push_back("cluster " + name + ": " + ctx.status().message());
        keepPrevious(prev_clusters, name, config->clusters);
        continue;
      }
      cc->tls = std::move(ctx.value());
    }
    cc->stats = stats.cluster(name);
    config->clusters.emplace(name, std::move(cc));
  }
  out.config = std::move(config);
  return out;
}

}  // namespace trellis::proxy::data
