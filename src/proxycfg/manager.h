#pragma once
// proxycfg::Manager: turns the state store, the CA and intentions into one ConfigSnapshot per
// watched xDS client, and republishes it when an input changes.
//
// Inputs are watched per table (catalog, config entries, CA roots); a change schedules one
// recompute after a short coalescing delay, so a burst of a thousand writes costs one pass.
// A pass rebuilds each needed EndpointSet once (shared by every proxy with that upstream), keeps
// the previous object when nothing in it changed, then republishes only the snapshots whose inputs
// moved. Leaves come from the agent's leaf cache through LeafFetcher and are re-checked on every
// pass and periodically (renewal, rotation).
//
// Threading: everything here runs on the core loop that owns the store. Callbacks are invoked on
// it too; receivers hand the snapshot to other threads themselves.

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "intentions/intention_set.h"
#include "proxycfg/snapshot.h"
#include "state/store.h"

namespace trellis::proxycfg {

struct ManagerConfig {
  std::string datacenter = "dc1";
  std::string node;  // the local agent's node: proxy registrations live there
  std::chrono::milliseconds coalesce{20};
  std::chrono::seconds leaf_recheck{10};
  bool default_allow = true;  // intentions default (acl.default_policy)
  bool use_sds = false;
};

using LeafFetcher =
    std::function<boost::asio::awaitable<Result<std::shared_ptr<const LeafCert>>>(std::string)>;
using RootsFetcher = std::function<std::shared_ptr<const CaRoots>()>;  // null: CA not ready
using IntentionsFetcher = std::function<std::shared_ptr<const intentions::IntentionSet>()>;

class Manager {
 public:
  using Callback = std::function<void(std::shared_ptr<const ConfigSnapshot>)>;

  Manager(boost::asio::io_context& io, state::Store& store, ManagerConfig config,
          LeafFetcher leaf, RootsFetcher roots, IntentionsFetcher intentions);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Watches the client `proxy_id` (xDS node.id). A registered connect-proxy service of the local
  // node with that ID makes it a sidecar; any other ID is a proxyless gRPC client whose services
  // come from setProxylessNames. The first snapshot arrives once it is complete.
  // `use_sds`: serve certificates as SDS secrets (Trellis' own proxy) instead of inline.
  uint64_t add(const std::string& proxy_id, Callback cb, bool use_sds = false);
  void setProxylessNames(uint64_t id, std::vector<std::string> names);
  void remove(uint64_t id);

  size_t watchCount() const { return watches_.size(); }
  // Passes run and snapshots published, for tests and metrics.
  uint64_t passes() const { return passes_; }
  uint64_t published() const { return published_; }

 private:
  struct Target {
    std::string service;
    std::string datacenter;
    bool connect = true;  // sidecar upstream (proxies of the service) or proxyless (the service)
    auto operator<=>(const Target&) const = default;
  };
  struct Watch {
    std::string proxy_id;
    Callback cb;
    std::vector<std::string> proxyless_names;
    bool use_sds = false;
    std::shared_ptr<const ConfigSnapshot> last;
    uint64_t reg_index = 0;  // registration ModifyIndex and config-entries index of `last`
    uint64_t entries_index = 0;
  };
  // Only endpoints moved since `w.last`: re-point them without rebuilding (the common case when
  // thousands of proxies share an upstream whose health flipped). Null when nothing changed.
  std::shared_ptr<ConfigSnapshot> refreshEndpointsOnly(const Watch& w);

  void watchStore();
  void startLeafTimer();
  void schedule();
  void pass();
  void refreshLeaves();
  std::shared_ptr<const Intentions> intentionsFor(const std::string& service);
  std::shared_ptr<const EndpointSet> endpointsFor(const Target& t);
  Endpoint endpointOf(const pb::Service& svc) const;
  std::shared_ptr<ConfigSnapshot> buildSidecar(const pb::Service& proxy, bool use_sds);
  std::shared_ptr<ConfigSnapshot> buildProxyless(const Watch& w);
  std::string protocolFor(const std::string& service, const std::string& upstream_config) const;
  static bool sameSnapshot(const ConfigSnapshot& a, const ConfigSnapshot& b);

  boost::asio::io_context& io_;
  state::Store& store_;
  ManagerConfig config_;
  LeafFetcher leaf_fetcher_;
  RootsFetcher roots_fetcher_;
  IntentionsFetcher intentions_fetcher_;

  std::map<uint64_t, Watch> watches_;
  uint64_t next_id_ = 1;

  state::Waiter waiter_;
  boost::asio::steady_timer coalesce_timer_;
  boost::asio::steady_timer leaf_timer_;
  bool scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  uint64_t catalog_index_ = ~uint64_t{0};
  uint64_t entries_index_ = ~uint64_t{0};
  // Shared parts with the index they were last checked at and the pass that last used them
  // (unused ones are dropped: proxyless clients may ask for any name).
  template <typename T>
  struct Cached {
    std::shared_ptr<const T> value;
    uint64_t checked = 0;
    uint64_t used_pass = 0;
  };
  std::map<Target, Cached<EndpointSet>> endpoints_;
  std::map<std::string, Cached<Intentions>> intentions_;
  std::shared_ptr<const CaRoots> roots_;
  std::map<std::string, std::shared_ptr<const LeafCert>> leaves_;
  std::set<std::string> leaf_in_flight_;

  uint64_t shapes_ = 0;
  uint64_t passes_ = 0;
  uint64_t published_ = 0;
};

}  // namespace trellis::proxycfg
