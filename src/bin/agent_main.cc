// The composition root of `trellis agent`: configuration -> log -> FSM and state store -> agent ->
// HTTP API. Everything runs on one core io_context thread; the durable log adds its own writer
// threads (src/consensus).
#include "bin/agent_main.h"

#include <sys/resource.h>
#include <unistd.h>

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "agent/agent.h"
#include "api/router.h"
#include "bin/checks_factory.h"
#include "bin/http_routes.h"
#include "bin/xds_plane.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/uuid.h"
#include "config/agent_config.h"
#include "consensus/lmdb_log.h"
#include "consensus/memory_log.h"
#include "dns/config.h"
#include "dns/server.h"
#include "http/server.h"
#include "server/ca_manager.h"
#include "server/fsm.h"
#include "server/session_timers.h"

namespace trellis::bin {

namespace asio = boost::asio;

namespace {

// A durable agent keeps its node ID across restarts, as Consul does (<data_dir>/node-id).
std::string nodeId(const config::AgentConfig& cfg) {
  if (!cfg.node_id.empty()) return cfg.node_id;
  if (cfg.data_dir.empty()) return newUuid();
  std::filesystem::path p = std::filesystem::path(cfg.data_dir) / "node-id";
  std::ifstream in(p);
  std::string id;
  if (in >> id && isUuid(id)) return id;
  id = newUuid();
  std::ofstream(p) << id;
  return id;
}

std::string advertiseAddress(const config::AgentConfig& cfg) {
  if (!cfg.advertise_addr.empty()) return cfg.advertise_addr;
  if (cfg.bind_addr != "0.0.0.0" && cfg.bind_addr != "::") return cfg.bind_addr;
  return "127.0.0.1";
}

// Registers the services and checks of the config files, and removes config-sourced ones that the
// files no longer name (reload). Definitions registered through the API are left alone.
asio::awaitable<Status> applyConfigDefinitions(agent::Agent& agent,
                                               const config::AgentConfig& cfg) {
  std::vector<agent::ServiceDef> services;
  std::vector<agent::CheckDef> checks;
  for (const auto& body : cfg.services) {
    auto def = agent::decodeService(body, cfg.node_name);
    if (!def) co_return invalidArgument("service definition: " + def.status().message());
    services.push_back(std::move(*def));
  }
  for (const auto& body : cfg.checks) {
    auto def = agent::decodeCheck(body, cfg.node_name);
    if (!def) co_return invalidArgument("check definition: " + def.status().message());
    checks.push_back(std::move(*def));
  }
  std::vector<std::string> gone_services, gone_checks;
  for (const auto& [id, ls] : agent.services()) {
    bool kept = false;
    for (const auto& d : services) {
      kept = kept || d.service.id() == id || (d.sidecar && d.sidecar->service.id() == id);
    }
    if (ls.from_config && !kept) gone_services.push_back(id);
  }
  for (const auto& [id, lc] : agent.checks()) {
    bool kept = false;
    for (const auto& d : checks) kept = kept || d.check.check_id() == id;
    if (lc.from_config && lc.check.service_id().empty() && !kept) gone_checks.push_back(id);
  }
  for (const auto& id : gone_services) co_await agent.removeService(id);
  for (const auto& id : gone_checks) co_await agent.removeCheck(id);
  Status first;
  for (auto& d : services) {
    Status s = co_await agent.addService(std::move(d), true, true);
    if (!s && first.isOk()) first = s;
  }
  for (auto& d : checks) {
    Status s = co_await agent.addCheck(std::move(d), true);
    if (!s && first.isOk()) first = s;
  }
  co_return first;
}

// Parked blocking queries each hold a socket: lift the soft descriptor limit to the hard one.
void raiseFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int runAgent(const std::vector<std::string>& args) {
  auto loaded = config::loadAgentConfig(args);
  if (!loaded) {
    std::cerr << "==> " << loaded.status().message() << "\n";
    return 1;
  }
  config::AgentConfig cfg = std::move(*loaded);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%^%l%$] %v");
  if (!setLogLevel(cfg.log_level)) {
    std::cerr << "==> invalid log level: " << cfg.log_level << "\n";
    return 1;
  }
  for (const auto& w : cfg.warnings) TLOG_WARN("config: {}", w);
  if (!cfg.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec) {
      std::cerr << "==> cannot create data_dir " << cfg.data_dir << ": " << ec.message() << "\n";
      return 1;
    }
  }

  raiseFileLimit();
  asio::io_context io(1);
  consensus::Poster post = [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); };
  state::Store store;
  server::Fsm fsm(store);
  std::unique_ptr<consensus::ReplicatedLog> log;
  if (cfg.data_dir.empty()) {
    log = std::make_unique<consensus::MemoryLog>(post);
  } else {
    log = std::make_unique<consensus::LmdbLog>(
        (std::filesystem::path(cfg.data_dir) / "log").string(), post);
  }
  if (Status s = log->open(fsm); !s) {
    std::cerr << "==> cannot open the log: " << s.message() << "\n";
    return 1;
  }
  server::Writer writer(io, *log);
  server::SessionTimers session_timers(io, writer);
  session_timers.rebuild(store);

  agent::AgentOptions aopts;
  aopts.node_name = cfg.node_name;
  aopts.node_id = nodeId(cfg);
  aopts.datacenter = cfg.datacenter;
  aopts.address = advertiseAddress(cfg);
  aopts.node_meta = cfg.node_meta;
  aopts.server = cfg.server || cfg.dev;
  aopts.server_port = cfg.ports.server;
  aopts.enable_script_checks = cfg.enable_script_checks;
  aopts.enable_local_script_checks = cfg.enable_local_script_checks;
  aopts.sidecar_min_port = cfg.ports.sidecar_min_port;
  aopts.sidecar_max_port = cfg.ports.sidecar_max_port;
  agent::Agent agent(io, store, writer, aopts, checkRunnerFactory(io));

  api::ApiConfig acfg;
  acfg.datacenter = cfg.datacenter;
  acfg.node_name = cfg.node_name;
  acfg.pretty_default = cfg.pretty_json || cfg.dev;
  acfg.dev = cfg.dev;
  acfg.server = cfg.server || cfg.dev;
  acfg.default_wait = cfg.default_query_time;
  acfg.max_wait = cfg.max_query_time;
  acfg.kv_max_value_size = cfg.kv_max_value_size;
  acfg.txn_max_req_len = cfg.txn_max_req_len;
  acfg.acl_default_policy = cfg.acl_default_policy;
  acfg.http_port = cfg.ports.http;
  acfg.dns_port = cfg.ports.dns;
  acfg.grpc_port = cfg.ports.grpc;
  acfg.serf_lan_port = cfg.ports.serf_lan;
  acfg.server_port = cfg.ports.server;
  acfg.bind_addr = aopts.address;
  acfg.server_address = aopts.address + ":" + std::to_string(cfg.ports.server);

  bool stopping = false;
  std::function<void()> shutdown;
  api::Context ctx{io, store, writer, agent, session_timers, acfg};
  ctx.request_shutdown = [&] { asio::post(io, [&] { shutdown(); }); };
  if (auto it = cfg.merged.find("session_ttl_min"); it != cfg.merged.end() && it->is_string()) {
    if (auto d = parseGoDuration(it->get<std::string>())) ctx.session_ttl_min = *d;
  }
  server::CaManager ca_manager(store, writer);
  if (cfg.connect_enabled) ctx.ca = &ca_manager;
  api::Router router(ctx, httpRoutes());
  http::Server http_server(io, http::ServerOptions{},
                           [&router](http::Exchange& ex) { return router.handle(ex); });
  std::string http_addr = cfg.addresses.http.empty() ? cfg.client_addr : cfg.addresses.http;
  if (cfg.ports.http >= 0) {
    if (Status s = http_server.listen(http_addr, static_cast<uint16_t>(cfg.ports.http)); !s) {
      std::cerr << "==> " << s.message() << "\n";
      return 1;
    }
  }

  // DNS answers from the same store on the same loop (src/dns).
  auto dns_cfg = dns::dnsConfigFrom(cfg);
  if (!dns_cfg) {
    std::cerr << "==> dns: " << dns_cfg.status().message() << "\n";
    return 1;
  }
  dns::Server dns_server(io, store, std::move(*dns_cfg));
  std::string dns_addr = cfg.addresses.dns.empty() ? cfg.client_addr : cfg.addresses.dns;
  if (cfg.ports.dns >= 0) {
    if (Status s = dns_server.listen(dns_addr, static_cast<uint16_t>(cfg.ports.dns)); !s) {
      std::cerr << "==> " << s.message() << "\n";
      return 1;
    }
  }

  // xDS for sidecars and proxyless gRPC clients (ports.grpc; 8502 in -dev, off otherwise).
  std::unique_ptr<XdsPlane> xds_plane;
  if (cfg.ports.grpc > 0) {
    auto plane = XdsPlane::start(ctx, ca_manager, cfg);
    if (!plane) {
      std::cerr << "==> xds: " << plane.status().message() << "\n";
      return 1;
    }
    xds_plane = std::move(*plane);
    ctx.extra_metrics = [plane = xds_plane.get()] { return plane->samples(); };
  }

  shutdown = [&] {
    if (stopping) return;
    stopping = true;
    TLOG_INFO("agent: leaving gracefully");
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await agent.leave();
          http_server.stop();
          dns_server.stop();
          io.stop();
        },
        asio::detached);
    // Never hang on the way out: whatever is left is cut after a few seconds.
    auto guard = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(3));
    guard->async_wait([&io, guard](boost::system::error_code) { io.stop(); });
  };
  ctx.reload = [&]() -> asio::awaitable<Status> {
    auto again = config::loadAgentConfig(args);
    if (!again) co_return internalError("Failed reloading: " + again.status().message());
    for (const auto& w : again->warnings) TLOG_WARN("config: {}", w);
    setLogLevel(again->log_level);
    TLOG_INFO("agent: reloading configuration");
    co_return co_await applyConfigDefinitions(agent, *again);
  };
  asio::signal_set hup(io, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            Status s = co_await ctx.reload();
            if (!s) TLOG_ERROR("agent: reload: {}", s.message());
          },
          asio::detached);
      wait_hup();
    });
  };
  wait_hup();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) shutdown();
  });

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Status s = co_await agent.start();
        if (!s) {
          TLOG_ERROR("agent: start failed: {}", s.message());
          io.stop();
          co_return;
        }
        if (ctx.ca != nullptr) {
          // Leader duty: the first CA root, from connect.ca_config when given.
          nlohmann::json ca_config = nlohmann::json::object();
          if (auto c = cfg.merged.find("connect"); c != cfg.merged.end() && c->is_object()) {
            if (auto cc = c->find("ca_config"); cc != c->end() && cc->is_object()) ca_config = *cc;
          }
          auto initial = server::CaSettings::fromJson(ca_config, server::CaSettings{});
          // (No co_await inside ?: here: GCC 12 destroys the temporary twice.)
          Status ca = initial.status();
          if (initial) ca = co_await ca_manager.initialize(*initial);
          if (!ca) {
            TLOG_ERROR("ca: {}", ca.message());
            io.stop();
            co_return;
          }
        }
        Status r = co_await applyConfigDefinitions(agent, cfg);
        if (!r) TLOG_ERROR("config: {}", r.message());
        TLOG_INFO("agent: started: node={} datacenter={} http={}:{} mode={}", cfg.node_name,
                  cfg.datacenter, http_addr, http_server.port(),
                  cfg.dev ? "dev (in-memory)" : "durable (" + cfg.data_dir + ")");
      },
      asio::detached);

  std::cout << "==> Trellis agent running!\n"
            << "           Version: '" << TRELLIS_VERSION << "'\n"
            << "         Node name: '" << cfg.node_name << "'\n"
            << "        Datacenter: '" << cfg.datacenter << "'\n"
            << "            Server: " << (acfg.server ? "true" : "false")
            << " (Bootstrap: " << (cfg.bootstrap || cfg.dev ? "true" : "false") << ")\n"
            << "       Client Addr: [" << http_addr << "] (HTTP: " << cfg.ports.http
            << ", DNS: " << cfg.ports.dns << ", gRPC: " << cfg.ports.grpc << ")\n"
            << "\n==> Log data will now stream in as it occurs:\n"
            << std::flush;
  io.run();
  if (xds_plane) xds_plane->stop();
  log->close();
  TLOG_INFO("agent: shutdown complete");
  return 0;
}

}  // namespace trellis::bin
