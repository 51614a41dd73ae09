#pragma once
// ProxycfgSource: the production SnapshotSource. It connects each ADS stream to a
// proxycfg::Manager watch on the core loop and turns every published ConfigSnapshot into a
// ResourceSet on a small generator pool, so the core loop never spends time serialising protos.
//
// Per stream, at most one generation runs at a time and only the newest pending snapshot is kept
// (a burst of snapshots costs one generation). When a snapshot differs from the previous one only
// in upstream endpoints (same `shape`), only the ClusterLoadAssignments are regenerated and the
// other resources are reused as they are: a health flip seen by 10,000 proxies costs 10,000 map
// copies, not 10,000 full generations.
//
// Threading: subscribe()/interest()/~Subscription run on gRPC threads and post to the core loop;
// Manager callbacks run on the core loop; generation runs on the pool.

#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "proxycfg/manager.h"
#include "xds/generators/load_assignment_cache.h"
#include "xds/server/source.h"

namespace trellis::xds {

class ProxycfgSource final : public SnapshotSource {
 public:
  // `core` runs `manager`; both must outlive this object. Call shutdown() before the core loop
  // stops for good.
  ProxycfgSource(boost::asio::io_context& core, proxycfg::Manager& manager, size_t threads = 1);
  ~ProxycfgSource() override;

  Result<std::unique_ptr<Subscription>> subscribe(
      const NodeInfo& node, std::function<void(ResourceSetPtr)> on_update) override;

  // Waits for generation jobs in flight; later snapshots are dropped.
  void shutdown();

  struct Link;

 private:
  void generateFor(const std::shared_ptr<Link>& link);

  boost::asio::io_context& core_;
  proxycfg::Manager& manager_;
  boost::asio::thread_pool pool_;
  LoadAssignmentCache cache_;
  ResourceInterner interner_;
};

}  // namespace trellis::xds
