// trellis-proxy: the sidecar. Reads the bootstrap that `trellis connect envoy -bootstrap` writes
// (or flags), opens a delta ADS stream to the agent, applies each accepted configuration to the
// data plane, and serves /ready, /stats and /config_dump on the admin listener. SIGTERM/SIGINT
// drain and exit 0. Links nothing from the control plane.
//
//   trellis-proxy -bootstrap FILE [-workers N] [-admin-bind HOST:PORT] [-drain SECONDS]
//                 [-log-level LEVEL]
//   trellis-proxy -proxy-id ID -xds-addr HOST:PORT [-token T] [...]
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "common/log.h"
#include "proxy/data/admin.h"
#include "proxy/data/data_plane.h"
#include "proxy/xds/bootstrap.h"
#include "proxy/xds/xds_client.h"

namespace {

using namespace trellis;

constexpr const char* kUsage =
    "Usage: trellis-proxy -bootstrap FILE [-workers N] [-admin-bind HOST:PORT] [-drain SECONDS]\n"
    "                     [-log-level trace|debug|info|warn|error]\n"
    "                     [-close-denied-connections=true|false] [-mux=true|false]\n"
    "                     [-mux-sessions N]\n"
    "       trellis-proxy -proxy-id ID -xds-addr HOST:PORT [-token TOKEN] [...]\n";

struct Flags {
  std::string bootstrap, proxy_id, xds_addr, token, admin_bind, log_level = "info";
  size_t workers = 0;
  int drain_seconds = 5;
  bool enforce_on_existing = true;
  bool mux = true;
  size_t mux_sessions = 1;
};

bool parseFlags(int argc, char** argv, Flags* f, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) a = a.substr(1);
    std::string value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      inline_value = true;
    }
    auto next = [&]() -> bool {
      if (inline_value) return true;
      if (i + 1 >= argc) {
        *error = "flag needs an argument: " + a;
        return false;
      }
      value = argv[++i];
      return true;
    };
    try {
      if (a == "-bootstrap" || a == "-config-path") {
        if (!next()) return false;
        f->bootstrap = value;
      } else if (a == "-proxy-id") {
        if (!next()) return false;
        f->proxy_id = value;
      } else if (a == "-xds-addr" || a == "-grpc-addr") {
        if (!next()) return false;
        f->xds_addr = value;
      } else if (a == "-token") {
        if (!next()) return false;
        f->token = value;
      } else if (a == "-admin-bind") {
        if (!next()) return false;
        f->admin_bind = value;
      } else if (a == "-log-level") {
        if (!next()) return false;
        f->log_level = value;
      } else if (a == "-workers") {
        if (!next()) return false;
        f->workers = std::stoul(value);
      } else if (a == "-drain") {
        if (!next()) return false;
        f->drain_seconds = std::stoi(value);
      } else if (a == "-close-denied-connections") {
        // Boolean: bare means true; -close-denied-connections=false turns it off.
        f->enforce_on_existing = !inline_value || (value != "false" && value != "0");
      } else if (a == "-mux-sessions") {
        if (!next()) return false;
        f->mux_sessions = std::stoul(value);
        if (f->mux_sessions == 0 || f->mux_sessions > 64) throw std::invalid_argument(value);
      } else if (a == "-mux") {
        // Boolean like the one above: -mux=false keeps one TLS connection per proxied connection.
        f->mux = !inline_value || (value != "false" && value != "0");
      } else if (a == "-h" || a == "-help") {
        *error = "";
        return false;
      } else {
        *error = "flag provided but not defined: " + a;
        return false;
      }
    } catch (const std::exception&) {
      *error = "invalid value \"" + value + "\" for flag " + a;
      return false;
    }
  }
  return true;
}

Result<std::pair<std::string, uint16_t>> splitHostPort(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return invalidArgument("missing port in address " + s);
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  try {
    int port = std::stoi(s.substr(colon + 1));
    if (port < 0 || port > 65535) return invalidArgument("port out of range in " + s);
    return std::make_pair(host, uint16_t(port));
  } catch (const std::exception&) {
    return invalidArgument("invalid port in address " + s);
  }
}

std::string xdsStats(const proxy::xds::XdsClient& client) {
  const auto& s = client.stats();
  auto line = [](const char* name, const char* type, uint64_t v) {
    return fmt::format("# TYPE {} {}\n{} {}\n", name, type, name, v);
  };
  std::string out;
  out += line("trellis_proxy_xds_updates_applied_total", "counter", s.updates_applied.load());
  out += line("trellis_proxy_xds_acks_total", "counter", s.updates_applied.load());
  out += line("trellis_proxy_xds_nacks_total", "counter", s.nacks_sent.load());
  out += line("trellis_proxy_xds_streams_started_total", "counter", s.streams_started.load());
  out += line("trellis_proxy_xds_reconnects_total", "counter", s.reconnects.load());
  out += line("trellis_proxy_xds_protocol_errors_total", "counter", s.protocol_errors.load());
  out += line("trellis_proxy_xds_connected", "gauge", s.connected.load());
  out += line("trellis_proxy_xds_config_generation", "gauge", s.config_generation.load());
  out += "# TYPE trellis_proxy_xds_version_info gauge\n";
  for (const auto& [type, version] : client.versions()) {
    out += fmt::format("trellis_proxy_xds_version_info{{type=\"{}\",version=\"{}\"}} 1\n", type,
                       version);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  std::string error;
  if (!parseFlags(argc, argv, &f, &error)) {
    if (!error.empty()) std::cerr << error << "\n";
    std::cerr << kUsage;
    return error.empty() ? 0 : 2;
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%^%l%$] trellis-proxy: %v");
  if (!setLogLevel(f.log_level)) {
    std::cerr << "invalid log level: " << f.log_level << "\n";
    return 2;
  }

  proxy::xds::XdsClientOptions xopts;
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 19000;
  if (!f.bootstrap.empty()) {
    std::ifstream in(f.bootstrap);
    if (!in) {
      std::cerr << "cannot read bootstrap " << f.bootstrap << "\n";
      return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto boot = proxy::xds::parseBootstrap(text.str());
    if (!boot) {
      std::cerr << "bootstrap " << f.bootstrap << ": " << boot.status().message() << "\n";
      return 1;
    }
    xopts.target = boot->agentTarget();
    xopts.node_id = boot->node_id;
    xopts.node_cluster = boot->node_cluster;
    xopts.node_namespace = boot->node_namespace;
    xopts.node_partition = boot->node_partition;
    xopts.token = boot->token;
    if (boot->admin_port != 0) {
      admin_host = boot->admin_address;
      admin_port = boot->admin_port;
    }
  }
  if (!f.proxy_id.empty()) xopts.node_id = f.proxy_id;
  if (!f.xds_addr.empty()) xopts.target = f.xds_addr;
  if (!f.token.empty()) xopts.token = f.token;
  if (!f.admin_bind.empty()) {
    auto hp = splitHostPort(f.admin_bind);
    if (!hp) {
      std::cerr << "-admin-bind: " << hp.status().message() << "\n";
      return 2;
    }
    admin_host = hp->first;
    admin_port = hp->second;
  }
  if (xopts.node_id.empty() || xopts.target.empty()) {
    std::cerr << "a proxy ID and the agent's xDS address are required (-bootstrap, or -proxy-id "
                 "and -xds-addr)\n"
              << kUsage;
    return 2;
  }
  if (xopts.node_cluster.empty()) xopts.node_cluster = xopts.node_id;

  // Signals are taken synchronously by this thread; every other thread blocks them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  proxy::data::DataPlaneOptions dopts;
  dopts.workers = f.workers;
  dopts.enforce_on_existing = f.enforce_on_existing;
  dopts.mux = f.mux;
  dopts.mux_sessions_per_endpoint = f.mux_sessions;
  proxy::data::DataPlane plane(dopts);
  proxy::xds::XdsClient client(xopts, [&plane](proxy::ProxyConfigPtr config) {
    Status s = plane.apply(std::move(config));
    if (!s) TLOG_WARN("applied with errors: {}", s.message());
  });
  proxy::data::AdminServer admin;
  Status started = admin.start(
      admin_host, admin_port,
      proxy::data::dataPlaneAdminHandlers(plane, [&client] { return xdsStats(client); }));
  if (!started) {
    std::cerr << "admin listener " << admin_host << ":" << admin_port << ": " << started.message()
              << "\n";
    return 1;
  }
  client.start();
  TLOG_INFO("proxy {} started: xDS {}, admin {}:{}", xopts.node_id, xopts.target, admin_host,
            admin.port());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  TLOG_INFO("signal {}: draining for up to {} s", sig, f.drain_seconds);
  client.stop();
  plane.stop(std::chrono::seconds(f.drain_seconds));
  admin.stop();
  TLOG_INFO("stopped");
  return 0;
}
