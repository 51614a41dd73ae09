#include "agent/agent.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "agent/sidecar.h"
#include "common/log.h"
#include "model/proxy.h"

namespace trellis::agent {

namespace asio = boost::asio;
using std::chrono::steady_clock;

std::string serviceMaintenanceId(const std::string& service_id) {
  return "_service_maintenance:" + service_id;
}

Agent::Agent(asio::io_context& io, state::Store& store, server::Writer& writer,
             AgentOptions options, RunnerFactory runners)
    : io_(io),
      store_(store),
      writer_(writer),
      options_(std::move(options)),
      runners_(std::move(runners)),
      reap_timer_(io) {}

Agent::~Agent() {
  *alive_ = false;
  reap_timer_.cancel();
  alias_waiter_.reset();
}

pb::Node Agent::nodeRecord() const {
  pb::Node n;
  n.set_id(options_.node_id);
  n.set_node(options_.node_name);
  n.set_address(options_.address);
  n.set_datacenter(options_.datacenter);
  auto& ta = *n.mutable_tagged_addresses();
  ta["lan"] = options_.address;
  ta["lan_ipv4"] = options_.address;
  ta["wan"] = options_.address;
  ta["wan_ipv4"] = options_.address;
  auto& meta = *n.mutable_meta();
  meta["consul-network-segment"] = "";
  for (const auto& [k, v] : options_.node_meta) meta[k] = v;
  return n;
}

asio::awaitable<Status> Agent::start() {
  pb::Command barrier;
  barrier.mutable_barrier();
  if (Status b = server::appliedStatus(co_await writer_.submit(barrier)); !b) co_return b;
  pb::Command cmd;
  auto* reg = cmd.mutable_register_();
  *reg->mutable_node() = nodeRecord();
  auto* serf = reg->add_checks();
  serf->set_node(options_.node_name);
  serf->set_check_id(kSerfCheckId);
  serf->set_name("Serf Health Status");
  serf->set_status("passing");
  serf->set_output("Agent alive and reachable");
  if (options_.server) {
    auto* svc = reg->mutable_service();
    svc->set_node(options_.node_name);
    svc->set_id(kServerServiceId);
    svc->set_service(kServerServiceId);
    svc->set_port(options_.server_port);
    svc->mutable_weights()->set_passing(1);
    svc->mutable_weights()->set_warning(1);
  }
  Status s = server::appliedStatus(co_await writer_.submit(cmd));
  if (!s) co_return s;

  // A durable server restarts with its catalog: take this node's services and checks back as
  // local state so their runners and TTLs resume.
  for (const pb::Service* svc : store_.nodeServices(options_.node_name)) {
    if (svc->id() == kServerServiceId) continue;  // the server's own entry, not a local service
    services_[svc->id()] = LocalService{*svc, "", false};
  }
  for (const pb::Check* c : store_.nodeChecks(options_.node_name)) {
    if (c->check_id() == kSerfCheckId) continue;
    LocalCheck& lc = checks_[c->check_id()];
    lc.check = *c;
    startCheck(lc);
  }
  scheduleReap();
  watchAliases();
  co_return Status::ok();
}

void Agent::watchAliases() {
  auto alive = alive_;
  alias_waiter_ = std::make_unique<state::Waiter>([this, alive] {
    // Fired from inside a store write: evaluate on the next turn of the loop.
    asio::post(io_, [this, alive] {
      if (!*alive) return;
      evaluateAliases();
      store_.watches().watch(*alias_waiter_, state::WatchHub::tableTopic(state::kChecks));
      store_.watches().watch(*alias_waiter_, state::WatchHub::tableTopic(state::kServices));
    });
  });
  store_.watches().watch(*alias_waiter_, state::WatchHub::tableTopic(state::kChecks));
  store_.watches().watch(*alias_waiter_, state::WatchHub::tableTopic(state::kServices));
  evaluateAliases();
}

void Agent::evaluateAliases() {
  for (auto& [id, lc] : checks_) {
    if (lc.check.type() != "alias") continue;
    const auto& d = lc.check.definition();
    std::string node = d.alias_node().empty() ? options_.node_name : d.alias_node();
    std::vector<const pb::Check*> checks;
    std::string missing;
    if (!d.alias_service().empty()) {
      if (store_.service(node, d.alias_service()) == nullptr) {
        missing = "Service " + d.alias_service() + " could not be found on node " + node;
      }
      checks = store_.serviceInstanceChecks(node, d.alias_service());
    } else if (store_.node(node) == nullptr) {
      missing = "Node " + node + " could not be found";
    }
    if (d.alias_service().empty() || !d.alias_node().empty()) {
      for (const pb::Check* c : store_.nodeChecks(node)) {
        if (c->service_id().empty()) checks.push_back(c);
      }
    }
    if (!missing.empty()) {
      setStatus(id, "critical", missing);
      continue;
    }
    std::string status = "passing";
    for (const pb::Check* c : checks) {
      if (c->status() == "critical") status = "critical";
      else if (c->status() == "warning" && status == "passing") status = "warning";
    }
    setStatus(id, status, status == "passing" ? "All checks passing." : "Aliased checks are " + status);
  }
}

asio::awaitable<void> Agent::leave() {
  for (auto& [id, lc] : checks_) {
    lc.runner.reset();
    lc.ttl_timer.reset();
  }
  reap_timer_.cancel();
  pb::Check serf;
  serf.set_node(options_.node_name);
  serf.set_check_id(kSerfCheckId);
  serf.set_name("Serf Health Status");
  serf.set_status("critical");
  serf.set_output("Agent left the cluster");
  std::vector<pb::Check> batch;
  batch.push_back(serf);
  co_await syncChecks(std::move(batch));
}

Status Agent::checkAllowed(const pb::Check& c, bool from_config) const {
  if (c.type() == "script" || c.type() == "docker") {
    bool allowed = options_.enable_script_checks ||
                   (from_config && options_.enable_local_script_checks);
    if (!allowed) {
      return invalidArgument(
          "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or "
          "'enable_local_script_checks' to true");
    }
  }
  return Status::ok();
}

void Agent::startCheck(LocalCheck& lc) {
  const std::string id = lc.check.check_id();
  lc.runner.reset();
  lc.ttl_timer.reset();
  if (lc.check.status() == "critical") lc.critical_since = steady_clock::now();
  const std::string& type = lc.check.type();
  if (type == "ttl") {
    lc.ttl_timer = std::make_unique<asio::steady_timer>(io_);
    armTtl(id);
    return;
  }
  if (type == "alias") {
    asio::post(io_, [this, alive = alive_] {
      if (*alive) evaluateAliases();
    });
    return;
  }
  if (type.empty() || type == "maintenance" || !runners_) return;
  auto alive = alive_;
  lc.runner = runners_(lc.check, [this, alive, id](const CheckUpdate& u) {
    if (*alive) setStatus(id, u.status, u.output);
  });
}

void Agent::armTtl(const std::string& id) {
  auto it = checks_.find(id);
  if (it == checks_.end() || !it->second.ttl_timer) return;
  auto& timer = *it->second.ttl_timer;
  timer.expires_after(std::chrono::nanoseconds(it->second.check.definition().ttl_ns()));
  auto alive = alive_;
  timer.async_wait([this, alive, id](boost::system::error_code ec) {
    if (ec || !*alive) return;
    setStatus(id, "critical", "TTL expired");
  });
}

void Agent::setStatus(const std::string& id, const std::string& status,
                      const std::string& output) {
  auto it = checks_.find(id);
  if (it == checks_.end()) return;
  pb::Check& c = it->second.check;
  if (c.status() == status && c.output() == output) return;
  if (status == "critical" && c.status() != "critical") {
    it->second.critical_since = steady_clock::now();
  }
  c.set_status(status);
  c.set_output(output);
  spawnSync(c);
}

void Agent::spawnSync(pb::Check check) {
  asio::co_spawn(
      io_,
      [this, check = std::move(check)]() -> asio::awaitable<void> {
        std::vector<pb::Check> batch;
        batch.push_back(check);
        Status s = co_await syncChecks(std::move(batch));
        if (!s) TLOG_WARN("agent: syncing check {} failed: {}", check.check_id(), s.message());
      },
      asio::detached);
}

asio::awaitable<Status> Agent::syncChecks(std::vector<pb::Check> checks) {
  pb::Command cmd;
  auto* reg = cmd.mutable_register_();
  *reg->mutable_node() = nodeRecord();
  reg->set_skip_node_update(true);
  for (auto& c : checks) *reg->add_checks() = std::move(c);
  co_return server::appliedStatus(co_await writer_.submit(cmd));
}

asio::awaitable<Status> Agent::addService(ServiceDef def, bool replace_existing_checks,
                                          bool from_config) {
  if (def.sidecar == nullptr) {
    co_return co_await addOne(std::move(def), replace_existing_checks, from_config);
  }
  std::map<std::string, int> ports;
  for (const auto& [id, ls] : services_) ports[id] = ls.service.port();
  auto sidecar = expandSidecar(
      def, ports, SidecarPortRange{options_.sidecar_min_port, options_.sidecar_max_port});
  if (!sidecar) co_return sidecar.status();
  def.sidecar.reset();
  for (const auto& cd : sidecar->checks) {
    if (Status s = checkAllowed(cd.check, from_config); !s) co_return s;
  }
  Status s = co_await addOne(std::move(def), replace_existing_checks, from_config);
  if (!s) co_return s;
  co_return co_await addOne(std::move(*sidecar), replace_existing_checks, from_config);
}

asio::awaitable<Status> Agent::addOne(ServiceDef def, bool replace_existing_checks,
                                      bool from_config) {
  for (const auto& cd : def.checks) {
    if (Status s = checkAllowed(cd.check, from_config); !s) co_return s;
  }
  const std::string sid = def.service.id();
  // Re-registering keeps the health a check already had unless a status is given.
  for (auto& cd : def.checks) {
    auto it = checks_.find(cd.check.check_id());
    if (it != checks_.end() && !cd.has_status) {
      cd.check.set_status(it->second.check.status());
      cd.check.set_output(it->second.check.output());
    }
  }
  std::vector<std::string> stale;
  if (replace_existing_checks) {
    for (const auto& [cid, lc] : checks_) {
      if (lc.check.service_id() != sid || cid == serviceMaintenanceId(sid)) continue;
      bool kept = false;
      for (const auto& cd : def.checks) kept = kept || cd.check.check_id() == cid;
      if (!kept) stale.push_back(cid);
    }
  }
  pb::Command cmd;
  auto* reg = cmd.mutable_register_();
  *reg->mutable_node() = nodeRecord();
  reg->set_skip_node_update(true);
  *reg->mutable_service() = def.service;
  for (const auto& cd : def.checks) *reg->add_checks() = cd.check;
  Status s = server::appliedStatus(co_await writer_.submit(cmd));
  if (!s) co_return s;
  for (const auto& cid : stale) co_await removeCheck(cid);

  services_[sid] = LocalService{def.service, def.token, from_config};
  for (auto& cd : def.checks) {
    LocalCheck& lc = checks_[cd.check.check_id()];
    lc.check = cd.check;
    lc.from_config = from_config;
    if (const pb::Check* stored = store_.check(options_.node_name, cd.check.check_id())) {
      lc.check = *stored;
    }
    startCheck(lc);
  }
  co_return Status::ok();
}

asio::awaitable<Status> Agent::removeService(const std::string& id) {
  if (services_.find(id) == services_.end()) {
    co_return notFound("Unknown service ID \"" + id +
                       "\". Ensure that the service ID is passed, not the service name.");
  }
  pb::Command cmd;
  cmd.mutable_deregister()->set_node(options_.node_name);
  cmd.mutable_deregister()->set_service_id(id);
  Status s = server::appliedStatus(co_await writer_.submit(cmd));
  if (!s) co_return s;
  services_.erase(id);
  for (auto it = checks_.begin(); it != checks_.end();) {
    it = it->second.check.service_id() == id ? checks_.erase(it) : std::next(it);
  }
  // Known by its ID and destination rather than a flag, so it survives a restart from the catalog.
  auto sidecar = services_.find(sidecarId(id));
  if (sidecar != services_.end() && sidecar->second.service.kind() == model::kConnectProxyKind &&
      sidecar->second.service.proxy().destination_service_id() == id) {
    const std::string sidecar_id = sidecar->first;  // the key dies with the erase
    co_return co_await removeService(sidecar_id);
  }
  co_return Status::ok();
}

asio::awaitable<Status> Agent::addCheck(CheckDef def, bool from_config) {
  pb::Check& c = def.check;
  if (!c.service_id().empty() && services_.find(c.service_id()) == services_.end()) {
    co_return invalidArgument("ServiceID \"" + c.service_id() + "\" does not exist");
  }
  if (Status s = checkAllowed(c, from_config); !s) co_return s;
  auto existing = checks_.find(c.check_id());
  if (existing != checks_.end() && !def.has_status) {
    c.set_status(existing->second.check.status());
    c.set_output(existing->second.check.output());
  }
  std::vector<pb::Check> batch;
  batch.push_back(c);
  Status s = co_await syncChecks(std::move(batch));
  if (!s) co_return s;
  LocalCheck& lc = checks_[c.check_id()];
  lc.check = c;
  lc.from_config = from_config;
  if (const pb::Check* stored = store_.check(options_.node_name, c.check_id())) lc.check = *stored;
  startCheck(lc);
  co_return Status::ok();
}

asio::awaitable<Status> Agent::removeCheck(const std::string& id) {
  if (checks_.find(id) == checks_.end()) {
    co_return notFound("Unknown check ID \"" + id +
                       "\". Ensure that the check ID is passed, not the check name.");
  }
  pb::Command cmd;
  cmd.mutable_deregister()->set_node(options_.node_name);
  cmd.mutable_deregister()->set_check_id(id);
  Status s = server::appliedStatus(co_await writer_.submit(cmd));
  if (!s) co_return s;
  checks_.erase(id);
  co_return Status::ok();
}

asio::awaitable<Status> Agent::updateTtl(const std::string& id, const std::string& status,
                                         const std::string& output) {
  auto it = checks_.find(id);
  if (it == checks_.end()) {
    co_return notFound("Unknown check ID \"" + id +
                       "\". Ensure that the check ID is passed, not the check name.");
  }
  if (it->second.check.type() != "ttl") {
    co_return internalError("CheckID \"" + id + "\" does not have associated TTL");
  }
  std::string out = output;
  size_t max = it->second.check.definition().output_max_size() > 0
                   ? static_cast<size_t>(it->second.check.definition().output_max_size())
                   : 4096;
  if (out.size() > max) out = out.substr(0, max) + " ... (captured " + std::to_string(max) + " of " + std::to_string(output.size()) + " bytes)";
  armTtl(id);
  pb::Check& c = it->second.check;
  if (c.status() == status && c.output() == out) co_return Status::ok();
  if (status == "critical" && c.status() != "critical") it->second.critical_since = steady_clock::now();
  c.set_status(status);
  c.set_output(out);
  std::vector<pb::Check> batch;
  batch.push_back(c);
  co_return co_await syncChecks(std::move(batch));
}

asio::awaitable<Status> Agent::serviceMaintenance(const std::string& id, bool enable,
                                                  const std::string& reason) {
  auto svc = services_.find(id);
  if (svc == services_.end()) {
    co_return notFound("No service registered with ID \"" + id + "\"");
  }
  std::string cid = serviceMaintenanceId(id);
  if (!enable) {
    if (checks_.count(cid) == 0) co_return Status::ok();
    co_return co_await removeCheck(cid);
  }
  CheckDef def;
  def.check.set_node(options_.node_name);
  def.check.set_check_id(cid);
  def.check.set_name("Service Maintenance Mode");
  def.check.set_notes(!reason.empty() ? reason
                                      : "Maintenance mode is enabled for this service, but no "
                                        "reason was provided. This is a default message.");
  def.check.set_service_id(id);
  def.check.set_status("critical");
  def.check.set_type("maintenance");
  def.has_status = true;
  co_return co_await addCheck(std::move(def), false);
}

asio::awaitable<Status> Agent::nodeMaintenance(bool enable, const std::string& reason) {
  if (!enable) {
    if (checks_.count(kNodeMaintenanceId) == 0) co_return Status::ok();
    co_return co_await removeCheck(kNodeMaintenanceId);
  }
  CheckDef def;
  def.check.set_node(options_.node_name);
  def.check.set_check_id(kNodeMaintenanceId);
  def.check.set_name("Node Maintenance Mode");
  def.check.set_notes(!reason.empty() ? reason
                                      : "Maintenance mode is enabled for this node, but no reason "
                                        "was provided. This is a default message.");
  def.check.set_status("critical");
  def.check.set_type("maintenance");
  def.has_status = true;
  co_return co_await addCheck(std::move(def), false);
}

// Deregisters services whose check has been critical for longer than its
// DeregisterCriticalServiceAfter (never less than options_.deregister_min).
void Agent::scheduleReap() {
  reap_timer_.expires_after(options_.reap_interval);
  auto alive = alive_;
  reap_timer_.async_wait([this, alive](boost::system::error_code ec) {
    if (ec || !*alive) return;
    auto now = steady_clock::now();
    std::vector<std::string> doomed;
    for (const auto& [cid, lc] : checks_) {
      int64_t after_ns = lc.check.definition().deregister_critical_service_after_ns();
      if (after_ns <= 0 || lc.check.status() != "critical" || lc.check.service_id().empty()) continue;
      auto after = std::max(std::chrono::nanoseconds(after_ns), options_.deregister_min);
      if (now - lc.critical_since >= after) doomed.push_back(lc.check.service_id());
    }
    for (const auto& sid : doomed) {
      asio::co_spawn(
          io_,
          [this, sid]() -> asio::awaitable<void> {
            if (services_.count(sid) == 0) co_return;
            TLOG_INFO("agent: deregistering service {}: critical for too long", sid);
            co_await removeService(sid);
          },
          asio::detached);
    }
    scheduleReap();
  });
}

}  // namespace trellis::agent
