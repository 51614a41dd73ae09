#pragma once
// The local agent: the services and checks registered on this node, the runners that keep their
// health current, TTL timers, maintenance mode, and the node's own registration with its
// serfHealth check. Every change goes to the catalog as a log command through the Writer; the
// agent endpoints answer from the local state kept here.
//
// Threading: the core loop only. Check runners are created through RunnerFactory (src/bin wires
// the real HTTP/TCP/script runners; tests may pass fakes).

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/definition.h"
#include "server/writer.h"
#include "state/store.h"

namespace trellis::agent {

struct CheckUpdate {
  std::string status;
  std::string output;
};

// Something that runs a check until destroyed.
class RunnerHandle {
 public:
  virtual ~RunnerHandle() = default;
};
using RunnerFactory = std::function<std::unique_ptr<RunnerHandle>(
    const pb::Check& check, std::function<void(const CheckUpdate&)> on_result)>;

struct AgentOptions {
  std::string node_name;
  std::string node_id;
  std::string datacenter = "dc1";
  std::string address = "127.0.0.1";
  std::map<std::string, std::string> node_meta;
  // Servers register the "consul" service (port = server RPC port), as Consul does; tools look
  // for it in the catalog and in DNS (consul.service.consul).
  bool server = false;
  int server_port = 8300;
  bool enable_script_checks = false;
  bool enable_local_script_checks = false;
  // ports.sidecar_min_port..sidecar_max_port: where Connect.SidecarService ports come from.
  int sidecar_min_port = 21000;
  int sidecar_max_port = 21255;
  std::chrono::milliseconds reap_interval{1000};
  std::chrono::nanoseconds deregister_min{std::chrono::minutes(1)};
};

class Agent {
 public:
  Agent(boost::asio::io_context& io, state::Store& store, server::Writer& writer,
        AgentOptions options, RunnerFactory runners);
  ~Agent();

  const AgentOptions& options() const { return options_; }

  // Registers the node and its serfHealth check, then restores this node's services and checks
  // from the catalog (durable mode) and starts their runners.
  boost::asio::awaitable<Status> start();
  // Marks the node as having left: serfHealth critical. Stops all runners.
  boost::asio::awaitable<void> leave();

  struct LocalCheck {
    pb::Check check;
    std::unique_ptr<RunnerHandle> runner;
    std::unique_ptr<boost::asio::steady_timer> ttl_timer;
    std::chrono::steady_clock::time_point critical_since{};
    bool from_config = false;
  };
  struct LocalService {
    pb::Service service;
    std::string token;
    bool from_config = false;
  };

  const std::map<std::string, LocalService>& services() const { return services_; }
  const std::map<std::string, LocalCheck>& checks() const { return checks_; }

  // `from_config` is true for definitions from config files (enable_local_script_checks). A
  // Connect.SidecarService is expanded (agent/sidecar.h) and registered after its parent; nothing
  // is registered when the expansion fails.
  boost::asio::awaitable<Status> addService(ServiceDef def, bool replace_existing_checks,
                                            bool from_config);
  // Also removes the sidecar that the service's Connect.SidecarService registered.
  boost::asio::awaitable<Status> removeService(const std::string& id);
  boost::asio::awaitable<Status> addCheck(CheckDef def, bool from_config);
  boost::asio::awaitable<Status> removeCheck(const std::string& id);
  // TTL pass/warn/fail/update. 404-style errors for unknown IDs, 500 for non-TTL checks.
  boost::asio::awaitable<Status> updateTtl(const std::string& id, const std::string& status,
                                           const std::string& output);
  boost::asio::awaitable<Status> serviceMaintenance(const std::string& id, bool enable,
                                                    const std::string& reason);
  boost::asio::awaitable<Status> nodeMaintenance(bool enable, const std::string& reason);

 private:
  Status checkAllowed(const pb::Check& c, bool from_config) const;
  boost::asio::awaitable<Status> addOne(ServiceDef def, bool replace_existing_checks,
                                        bool from_config);
  void startCheck(LocalCheck& lc);
  void armTtl(const std::string& id);
  // Applies a new status/output locally and writes the check to the catalog when it changed.
  void setStatus(const std::string& id, const std::string& status, const std::string& output);
  boost::asio::awaitable<Status> syncChecks(std::vector<pb::Check> checks);
  void spawnSync(pb::Check check);
  pb::Node nodeRecord() const;
  void scheduleReap();
  // Alias checks mirror the health of another service (or node) from the catalog; they are
  // re-evaluated whenever the checks table changes.
  void watchAliases();
  void evaluateAliases();

  boost::asio::io_context& io_;
  state::Store& store_;
  server::Writer& writer_;
  AgentOptions options_;
  RunnerFactory runners_;
  std::map<std::string, LocalService> services_;
  std::map<std::string, LocalCheck> checks_;
  boost::asio::steady_timer reap_timer_;
  std::unique_ptr<state::Waiter> alias_waiter_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

inline constexpr const char* kSerfCheckId = "serfHealth";
inline constexpr const char* kServerServiceId = "consul";
inline constexpr const char* kNodeMaintenanceId = "_node_maintenance";
std::string serviceMaintenanceId(const std::string& service_id);

}  // namespace trellis::agent
