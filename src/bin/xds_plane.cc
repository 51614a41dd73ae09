#include "bin/xds_plane.h"

#include "api/connect_access.h"
#include "common/log.h"

namespace trellis::bin {

namespace asio = boost::asio;

Result<std::unique_ptr<XdsPlane>> XdsPlane::start(api::Context& ctx, server::CaManager& ca,
                                                  const config::AgentConfig& cfg) {
  std::unique_ptr<XdsPlane> plane(new XdsPlane());
  XdsPlane* self = plane.get();
  proxycfg::ManagerConfig mcfg;
  mcfg.datacenter = cfg.datacenter;
  mcfg.node = cfg.node_name;
  mcfg.default_allow = cfg.acl_default_policy != "deny";

  auto leaf = [&ctx](std::string service)
      -> asio::awaitable<Result<std::shared_ptr<const proxycfg::LeafCert>>> {
    if (ctx.ca == nullptr || !ctx.ca->ready()) co_return Status(Code::kUnavailable, "CA is not initialized yet");
    auto got = co_await api::ensureLeaf(ctx, service);
    if (!got) co_return got.status();
    auto out = std::make_shared<proxycfg::LeafCert>();
    out->cert_pem = (*got)->leaf.cert_pem;
    out->key_pem = (*got)->private_key_pem;
    out->serial = (*got)->leaf.serial_number;
    out->index = (*got)->index;
    co_return std::shared_ptr<const proxycfg::LeafCert>(std::move(out));
  };
  // Roots are rebuilt only when the roots table moves, so snapshots can compare by pointer.
  auto roots = [self, &ctx, &ca]() -> std::shared_ptr<const proxycfg::CaRoots> {
    if (!ca.ready()) return nullptr;
    uint64_t idx = ctx.store.tableIndex(state::kCaRoots);
    if (self->roots_ && self->roots_index_ == idx) return self->roots_;
    auto r = std::make_shared<proxycfg::CaRoots>();
    r->trust_domain = ca.trustDomain();
    r->active_root_id = ca.activeRootId();
    r->index = idx;
    const auto& all = ctx.store.ca().roots();
    for (const auto& root : all) {
      if (root.active()) r->root_pems.push_back(root.root_cert());
    }
    for (const auto& root : all) {
      if (!root.active()) r->root_pems.push_back(root.root_cert());
    }
    self->roots_ = std::move(r);
    self->roots_index_ = idx;
    return self->roots_;
  };
  auto intentions = [&ctx]() -> std::shared_ptr<const intentions::IntentionSet> {
    api::intentionSet(ctx);
    return ctx.intention_set;
  };
  plane->manager_ = std::make_unique<proxycfg::Manager>(ctx.io, ctx.store, mcfg, leaf, roots,
                                                        intentions);
  plane->source_ = std::make_unique<xds::ProxycfgSource>(ctx.io, *plane->manager_, 1);
  xds::AdsServerOptions opts;
  std::string host = cfg.addresses.grpc.empty() ? cfg.client_addr : cfg.addresses.grpc;
  opts.address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                 std::to_string(cfg.ports.grpc);
  auto server = xds::AdsServer::start(*plane->source_, plane->metrics_, opts);
  if (!server) return server.status();
  plane->server_ = std::move(*server);
  return plane;
}

std::vector<api::Context::MetricSample> XdsPlane::samples() const {
  const xds::XdsMetrics& m = metrics_;
  auto r = [](const auto& a) { return double(a.load(std::memory_order_relaxed)); };
  return {
      {"trellis.xds.streams_active", r(m.streams_active), false},
      {"trellis.xds.streams_total", r(m.streams_total), true},
      {"trellis.xds.streams_refused", r(m.streams_refused), true},
      {"trellis.xds.responses_pushed", r(m.responses_pushed), true},
      {"trellis.xds.resources_sent", r(m.resources_sent), true},
      {"trellis.xds.resources_removed", r(m.resources_removed), true},
      {"trellis.xds.acks", r(m.acks), true},
      {"trellis.xds.nacks", r(m.nacks), true},
      {"trellis.xds.unknown_types", r(m.unknown_types), true},
      {"trellis.xds.push_latency_p50_seconds", m.push_latency.quantileSeconds(0.5), false},
      {"trellis.xds.push_latency_p99_seconds", m.push_latency.quantileSeconds(0.99), false},
      {"trellis.xds.push_latency_count", double(m.push_latency.count()), true},
      {"trellis.proxycfg.watches", double(manager_->watchCount()), false},
      {"trellis.proxycfg.passes", double(manager_->passes()), true},
      {"trellis.proxycfg.snapshots_published", double(manager_->published()), true},
  };
}

XdsPlane::~XdsPlane() { stop(); }

void XdsPlane::stop() {
  if (server_) server_->stop();
  if (source_) source_->shutdown();
}

}  // namespace trellis::bin
