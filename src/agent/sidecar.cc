#include "agent/sidecar.h"

#include <set>

#include "model/proxy.h"

namespace trellis::agent {
namespace {

constexpr int64_t kListeningInterval = 10'000'000'000;  // 10s, in ns

Result<int> allocatePort(const std::string& id, const std::map<std::string, int>& local_ports,
                         SidecarPortRange range) {
  if (range.min <= 0 || range.max <= 0) {
    return invalidArgument(
        "Invalid SidecarService: no port provided for sidecar_service and auto-assignment "
        "disabled in config");
  }
  std::set<int> used;
  for (const auto& [other, port] : local_ports) {
    if (port < range.min || port > range.max) continue;
    if (other == id) return port;
    used.insert(port);
  }
  for (int p = range.min; p <= range.max; ++p) {
    if (used.count(p) == 0) return p;
  }
  return invalidArgument(
      "Invalid SidecarService: no port provided for sidecar_service and none "
      "left in the configured range [" +
      std::to_string(range.min) + ", " + std::to_string(range.max) + "]");
}

std::vector<CheckDef> defaultChecks(const pb::Service& parent, const pb::Service& sidecar) {
  std::string host = sidecar.address();
  if (host.empty()) host = sidecar.proxy().local_service_address();
  if (host.empty()) host = "127.0.0.1";
  std::vector<CheckDef> out(2);
  pb::Check& tcp = out[0].check;
  tcp.set_check_id("service:" + sidecar.id() + ":1");
  tcp.set_name("Connect Sidecar Listening");
  tcp.set_type("tcp");
  tcp.mutable_definition()->set_tcp(model::joinHostPort(host, sidecar.port()));
  tcp.mutable_definition()->set_interval_ns(kListeningInterval);
  pb::Check& alias = out[1].check;
  alias.set_check_id("service:" + sidecar.id() + ":2");
  alias.set_name("Connect Sidecar Aliasing " + parent.id());
  alias.set_type("alias");
  alias.mutable_definition()->set_alias_service(parent.id());
  for (auto& cd : out) {
    cd.check.set_node(sidecar.node());
    cd.check.set_service_id(sidecar.id());
    cd.check.set_status("critical");
  }
  return out;
}

}  // namespace

std::string sidecarId(const std::string& service_id) { return service_id + "-sidecar-proxy"; }

Result<ServiceDef> expandSidecar(const ServiceDef& parent,
                                 const std::map<std::string, int>& local_ports,
                                 SidecarPortRange range) {
  const pb::Service& ps = parent.service;
  ServiceDef def = *parent.sidecar;
  def.sidecar.reset();
  pb::Service& s = def.service;
  if (s.kind().empty()) s.set_kind(model::kConnectProxyKind);
  if (s.address().empty()) s.set_address(ps.address());
  if (s.tags_size() == 0) *s.mutable_tags() = ps.tags();
  if (s.meta().empty()) *s.mutable_meta() = ps.meta();
  if (s.locality_json().empty()) s.set_locality_json(ps.locality_json());
  pb::ConnectProxyConfig& p = *s.mutable_proxy();
  if (p.destination_service_name().empty()) p.set_destination_service_name(ps.service());
  if (p.destination_service_id().empty()) p.set_destination_service_id(ps.id());
  if (p.local_service_address().empty() && p.local_service_port() < 1 &&
      p.local_service_socket_path().empty()) {
    if (!ps.socket_path().empty()) {
      p.set_local_service_socket_path(ps.socket_path());
    } else {
      p.set_local_service_address("127.0.0.1");
      p.set_local_service_port(ps.port());
    }
  }
  if (s.port() < 1) {
    auto port = allocatePort(s.id(), local_ports, range);
    if (!port) return port.status();
    s.set_port(*port);
  }
  if (def.checks.empty()) def.checks = defaultChecks(ps, s);
  if (def.token.empty()) def.token = parent.token;
  if (Status v = model::validateConnect(s, false); !v) {
    return invalidArgument("Failed Validation: " + v.message());
  }
  return def;
}

}  // namespace trellis::agent
