#include "xds/source/proxycfg_source.h"

#include <boost/asio/post.hpp>
#include <mutex>

#include "common/log.h"
#include "xds/generators/generators.h"

namespace trellis::xds {

namespace asio = boost::asio;

struct ProxycfgSource::Link {
  std::mutex mu;
  bool alive = true;
  std::function<void(ResourceSetPtr)> on_update;
  std::shared_ptr<const proxycfg::ConfigSnapshot> pending;
  bool running = false;
  // Generation side: touched only by the one job running for this link.
  std::shared_ptr<const proxycfg::ConfigSnapshot> prev_snapshot;
  ResourceSetPtr prev_set;
  // Core-loop side.
  uint64_t watch_id = 0;
};

namespace {

class LinkSubscription final : public Subscription {
 public:
  LinkSubscription(asio::io_context& core, proxycfg::Manager& manager,
                   std::shared_ptr<ProxycfgSource::Link> link)
      : core_(core), manager_(manager), link_(std::move(link)) {}

  ~LinkSubscription() override {
    {
      std::lock_guard lock(link_->mu);
      link_->alive = false;
      link_->on_update = nullptr;
      link_->pending = nullptr;
    }
    asio::post(core_, [&manager = manager_, link = link_] {
      if (link->watch_id != 0) manager.remove(link->watch_id);
    });
  }

  void interest(std::string_view type_url, const std::vector<std::string>& names,
                bool wildcard) override {
    // Proxyless gRPC clients name the services they resolve as listener names. Sidecars ask for
    // every listener (wildcard) and their names are ignored by the manager.
    if (type_url != kListenerType) return;
    asio::post(core_, [&manager = manager_, link = link_, names] {
      if (link->watch_id != 0) manager.setProxylessNames(link->watch_id, names);
    });
  }

 private:
  asio::io_context& core_;
  proxycfg::Manager& manager_;
  std::shared_ptr<ProxycfgSource::Link> link_;
};

}  // namespace

ProxycfgSource::ProxycfgSource(asio::io_context& core, proxycfg::Manager& manager,
                               size_t threads)
    : core_(core), manager_(manager), pool_(threads) {}

ProxycfgSource::~ProxycfgSource() { shutdown(); }

void ProxycfgSource::shutdown() {
  pool_.join();
}

Result<std::unique_ptr<Subscription>> ProxycfgSource::subscribe(
    const NodeInfo& node, std::function<void(ResourceSetPtr)> on_update) {
  if (node.id.empty()) return invalidArgument("node.id is required");
  auto link = std::make_shared<Link>();
  link->on_update = std::move(on_update);
  // Trellis' own proxy takes certificates as SDS secrets, so a new leaf changes one Secret and
  // no listener or cluster (decision 0002); Envoy gets them inline, as Consul serves them.
  bool use_sds = node.user_agent_name == "trellis-proxy";
  asio::post(core_, [this, link, id = node.id, use_sds] {
    {
      std::lock_guard lock(link->mu);
      if (!link->alive) return;
    }
    link->watch_id = manager_.add(id, [this, weak = std::weak_ptr<Link>(link)](
                                          std::shared_ptr<const proxycfg::ConfigSnapshot> snap) {
      auto l = weak.lock();
      if (!l) return;
      bool start = false;
      {
        std::lock_guard lock(l->mu);
        if (!l->alive) return;
        l->pending = std::move(snap);
        start = !l->running;
        l->running = true;
      }
      if (start) asio::post(pool_, [this, l] { generateFor(l); });
    }, use_sds);
  });
  return std::unique_ptr<Subscription>(new LinkSubscription(core_, manager_, link));
}

void ProxycfgSource::generateFor(const std::shared_ptr<Link>& link) {
  for (;;) {
    std::shared_ptr<const proxycfg::ConfigSnapshot> snap;
    {
      std::lock_guard lock(link->mu);
      snap = std::move(link->pending);
      link->pending = nullptr;
      if (!snap || !link->alive) {
        link->running = false;
        return;
      }
    }
    ResourceSetPtr set;
    const auto& prev = link->prev_snapshot;
    if (prev && link->prev_set && link->prev_set->complete && prev->shape == snap->shape &&
        prev->kind == snap->kind) {
      auto next = std::make_shared<ResourceSet>(*link->prev_set);
      auto& eds = next->by_type[std::string(kEndpointType)];
      eds = generateEndpoints(*snap, &cache_);
      for (auto& [name, r] : eds) r = interner_.intern(std::string(kEndpointType), r);
      next->index = snap->index;
      set = std::move(next);
    } else {
      auto fresh = generate(*snap, &cache_);
      auto copy = std::make_shared<ResourceSet>(*fresh);
      interner_.internAll(*copy);
      set = std::move(copy);
    }
    link->prev_snapshot = snap;
    link->prev_set = set;
    std::function<void(ResourceSetPtr)> deliver;
    {
      std::lock_guard lock(link->mu);
      if (link->alive) deliver = link->on_update;
    }
    if (deliver) deliver(set);
  }
}

}  // namespace trellis::xds
