#include "agent/definition.h"

#include <regex>

#include "common/duration.h"
#include "model/proxy.h"

namespace trellis::agent {
namespace {

using model::Fields;
using model::InJson;

Status invalidCheck(const std::string& why) { return invalidArgument("Invalid check: " + why); }

bool validStatus(const std::string& s) {
  return s == "passing" || s == "warning" || s == "critical";
}

// Decodes the fields shared by service checks and check registrations into `out`.
Status decodeCheckFields(Fields& f, CheckDef* out) {
  pb::Check& c = out->check;
  pb::CheckDefinition& d = *c.mutable_definition();
  std::string id, check_id, name, notes, status, service_id, http, method, body, tls_name, tcp,
      udp, grpc, shell, alias_service, alias_node, h2ping, docker, os_service, output, node, type,
      interval_s;
  std::vector<std::string> args, script_args;
  std::map<std::string, std::string> unused_map;
  bool tls_skip = false, grpc_tls = false, disable_redirects = false, h2ping_tls = true;
  std::chrono::nanoseconds interval{0}, timeout{0}, ttl{0}, dereg{0};
  int32_t sbp = 0, fbw = 0, fbc = 0, output_max = 0, exposed_port = 0;
  uint64_t ignored_index = 0;
  Status s;
  if (!(s = f.str("ID", &id)) || !(s = f.str("CheckID", &check_id)) || !(s = f.str("Name", &name)) ||
      !(s = f.str("Notes", &notes)) || !(s = f.str("Status", &status)) ||
      !(s = f.str("ServiceID", &service_id)) || !(s = f.str("HTTP", &http)) ||
      !(s = f.str("Method", &method)) || !(s = f.str("Body", &body)) ||
      !(s = f.str("TLSServerName", &tls_name)) || !(s = f.boolean("TLSSkipVerify", &tls_skip)) ||
      !(s = f.str("TCP", &tcp)) || !(s = f.str("UDP", &udp)) || !(s = f.str("GRPC", &grpc)) ||
      !(s = f.boolean("GRPCUseTLS", &grpc_tls)) || !(s = f.strings("Args", &args)) ||
      !(s = f.strings("ScriptArgs", &script_args)) || !(s = f.str("Shell", &shell)) ||
      !(s = f.str("AliasService", &alias_service)) || !(s = f.str("AliasNode", &alias_node)) ||
      !(s = f.str("H2PING", &h2ping)) || !(s = f.boolean("H2PingUseTLS", &h2ping_tls)) ||
      !(s = f.str("DockerContainerID", &docker)) || !(s = f.str("OSService", &os_service)) ||
      !(s = f.boolean("DisableRedirects", &disable_redirects)) ||
      !(s = f.duration("Interval", &interval)) || !(s = f.duration("Timeout", &timeout)) ||
      !(s = f.duration("TTL", &ttl)) ||
      !(s = f.duration("DeregisterCriticalServiceAfter", &dereg)) ||
      !(s = f.i32("SuccessBeforePassing", &sbp)) || !(s = f.i32("FailuresBeforeWarning", &fbw)) ||
      !(s = f.i32("FailuresBeforeCritical", &fbc)) || !(s = f.i32("OutputMaxSize", &output_max)) ||
      !(s = f.str("Output", &output)) || !(s = f.str("Node", &node)) ||
      !(s = f.str("Type", &type)) || !(s = f.i32("ExposedPort", &exposed_port)) ||
      !(s = f.u64("CreateIndex", &ignored_index)) || !(s = f.u64("ModifyIndex", &ignored_index))) {
    return s;
  }
  // Header: map of string -> []string.
  if (const InJson* h = f.take("Header")) {
    if (!h->is_object()) return f.typeError("Header", *h, "map[string][]string");
    for (auto it = h->begin(); it != h->end(); ++it) {
      if (!it.value().is_array()) return f.typeError("Header", it.value(), "[]string");
      auto& list = (*d.mutable_header())[it.key()];
      for (const auto& v : it.value()) {
        if (!v.is_string()) return f.typeError("Header", v, "string");
        list.add_values(v.get<std::string>());
      }
    }
  }
  f.take("Namespace");
  f.take("Partition");
  f.take("Definition");  // catalog echo; the agent derives its own
  if (!status.empty() && !validStatus(status)) {
    return invalidArgument("Status for checks must 'passing', 'warning', 'critical'");
  }
  if (args.empty()) args = script_args;
  c.set_check_id(!check_id.empty() ? check_id : id);
  c.set_name(name);
  c.set_notes(notes);
  c.set_status(status.empty() ? "critical" : status);
  out->has_status = !status.empty();
  c.set_service_id(service_id);
  c.set_output(output);
  c.set_exposed_port(exposed_port);
  d.set_http(http);
  d.set_method(method);
  d.set_body(body);
  d.set_tls_server_name(tls_name);
  d.set_tls_skip_verify(tls_skip);
  d.set_tcp(tcp);
  d.set_udp(udp);
  d.set_grpc(grpc);
  d.set_grpc_use_tls(grpc_tls);
  d.set_interval_ns(interval.count());
  d.set_timeout_ns(timeout.count());
  d.set_ttl_ns(ttl.count());
  d.set_deregister_critical_service_after_ns(dereg.count());
  for (auto& a : args) d.add_args(a);
  d.set_shell(shell);
  d.set_alias_service(alias_service);
  d.set_alias_node(alias_node);
  d.set_disable_redirects(disable_redirects);
  d.set_success_before_passing(sbp);
  d.set_failures_before_warning(fbw);
  d.set_failures_before_critical(fbc);
  d.set_output_max_size(output_max);
  d.set_h2ping(h2ping);
  d.set_docker_container_id(docker);

  std::string kind = checkKind(d);
  if (kind.empty()) {
    return invalidCheck(
        "TTL must be > 0 for TTL checks, or one of HTTP, TCP, UDP, GRPC, H2PING, Args, "
        "AliasService or AliasNode must be set with an Interval");
  }
  bool needs_interval = kind != "ttl" && kind != "alias";
  if (needs_interval && interval.count() <= 0) {
    return invalidCheck("Interval must be > 0 for " + kind + " checks");
  }
  if (timeout.count() < 0) return invalidCheck("Timeout must be >= 0");
  c.set_type(kind);
  return Status::ok();
}

const std::regex& metaKeyPattern() {
  static const std::regex re("^[a-zA-Z0-9_-]+$");
  return re;
}

Status validateMeta(const std::map<std::string, std::string>& meta) {
  if (meta.size() > 64) return invalidArgument("Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs");
  for (const auto& [k, v] : meta) {
    if (k.empty()) return invalidArgument("Invalid Service Meta: Key cannot be blank");
    if (k.size() > 128) return invalidArgument("Invalid Service Meta: Key is too long (limit: 128 characters)");
    if (!std::regex_match(k, metaKeyPattern())) {
      return invalidArgument("Invalid Service Meta: Key contains invalid characters");
    }
    if (k.rfind("consul-", 0) == 0 && k != "consul-wan-federation" && k != "consul-network-segment") {
      return invalidArgument("Invalid Service Meta: Key prefix 'consul-' is reserved for internal use");
    }
    if (v.size() > 512) return invalidArgument("Invalid Service Meta: Value is too long (limit: 512 characters)");
  }
  return Status::ok();
}

}  // namespace

std::string checkKind(const pb::CheckDefinition& d) {
  int set = 0;
  std::string kind;
  auto mark = [&](bool on, const char* k) {
    if (on) {
      ++set;
      kind = k;
    }
  };
  mark(d.ttl_ns() > 0, "ttl");
  mark(!d.http().empty(), "http");
  mark(!d.tcp().empty(), "tcp");
  mark(!d.udp().empty(), "udp");
  mark(!d.grpc().empty(), "grpc");
  mark(!d.h2ping().empty(), "h2ping");
  mark(!d.docker_container_id().empty(), "docker");
  mark(d.args_size() > 0 && d.docker_container_id().empty(), "script");
  mark(!d.alias_service().empty() || !d.alias_node().empty(), "alias");
  return set == 1 ? kind : "";
}

Result<CheckDef> decodeCheck(const model::InJson& body, const std::string& node) {
  auto f = Fields::of(body, "CheckDefinition");
  if (!f) return f.status();
  CheckDef def;
  if (Status s = decodeCheckFields(*f, &def); !s) return s;
  if (Status s = f->finish(); !s) return s;
  if (def.check.name().empty()) return invalidArgument("Missing check name");
  if (def.check.check_id().empty()) def.check.set_check_id(def.check.name());
  def.check.set_node(node);
  return def;
}

namespace {

// A nested Connect.SidecarService: its ID is the agent's to choose and its name defaults from the
// parent; everything else is defaulted at registration (agent/sidecar.h).
struct Nesting {
  std::string id;
  std::string default_name;
};

Status validationFailed(const std::string& why) {
  return invalidArgument("Validation failed: " + why);
}

Result<ServiceDef> decodeServiceDef(const model::InJson& body, const std::string& node,
                                    const Nesting* nested) {
  auto fr = Fields::of(body, "ServiceDefinition");
  if (!fr) return fr.status();
  Fields& f = *fr;
  ServiceDef def;
  pb::Service& svc = def.service;
  std::string id, name, kind, address, socket_path, token;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  int32_t port = 0;
  bool eto = false;
  Status s;
  if (!(s = f.str("ID", &id)) || !(s = f.str("Name", &name)) || !(s = f.str("Kind", &kind)) ||
      !(s = f.strings("Tags", &tags)) || !(s = f.str("Address", &address)) ||
      !(s = f.stringMap("Meta", &meta)) || !(s = f.i32("Port", &port)) ||
      !(s = f.str("SocketPath", &socket_path)) || !(s = f.boolean("EnableTagOverride", &eto)) ||
      !(s = f.str("Token", &token))) {
    return s;
  }
  // The catalog's AgentService form names the service "Service" instead of "Name".
  std::string alt_name;
  if (!(s = f.str("Service", &alt_name))) return s;
  if (name.empty()) name = alt_name;
  if (const InJson* ta = f.take("TaggedAddresses")) {
    if (!ta->is_object()) return f.typeError("TaggedAddresses", *ta, "map[string]ServiceAddress");
    for (auto it = ta->begin(); it != ta->end(); ++it) {
      auto af = Fields::of(it.value(), "ServiceAddress");
      if (!af) return af.status();
      std::string a;
      int32_t p = 0;
      if (!(s = af->str("Address", &a)) || !(s = af->i32("Port", &p)) || !(s = af->finish())) return s;
      auto& sa = (*svc.mutable_tagged_addresses())[it.key()];
      sa.set_address(a);
      sa.set_port(p);
    }
  }
  if (const InJson* w = f.take("Weights")) {
    auto wf = Fields::of(*w, "Weights");
    if (!wf) return wf.status();
    int32_t passing = 1, warning = 1;
    if (!(s = wf->i32("Passing", &passing)) || !(s = wf->i32("Warning", &warning)) ||
        !(s = wf->finish())) {
      return s;
    }
    if (passing < 1) return invalidArgument("Passing must be greater than 0");
    if (warning < 0) return invalidArgument("Warning must be greater or equal than 0");
    svc.mutable_weights()->set_passing(passing);
    svc.mutable_weights()->set_warning(warning);
  } else {
    svc.mutable_weights()->set_passing(1);
    svc.mutable_weights()->set_warning(1);
  }
  if (const InJson* p = f.take("Proxy")) {
    if (!p->is_object()) return f.typeError("Proxy", *p, "ConnectProxyConfig");
    if (!(s = model::decodeProxy(*p, svc.mutable_proxy()))) return s;
    for (auto& u : *svc.mutable_proxy()->mutable_upstreams()) {
      if (u.destination_type().empty()) u.set_destination_type(model::kUpstreamService);
    }
  }
  const InJson* sidecar_body = nullptr;
  if (const InJson* c = f.take("Connect")) {
    if (!c->is_object()) return f.typeError("Connect", *c, "ServiceConnect");
    auto cf = Fields::of(*c, "ServiceConnect");
    if (!cf) return cf.status();
    bool native = false;
    if (!(s = cf->boolean("Native", &native))) return s;
    if (cf->take("Proxy") != nullptr) {
      return invalidArgument(
          "Invalid Connect: managed proxies (Connect.Proxy) were removed in Consul 1.6; use "
          "Connect.SidecarService");
    }
    sidecar_body = cf->take("SidecarService");
    if (sidecar_body != nullptr && !sidecar_body->is_object()) {
      return cf->typeError("SidecarService", *sidecar_body, "ServiceDefinition");
    }
    cf->take("PeerMeta");
    if (!(s = cf->finish())) return s;
    svc.set_connect_native(native);
  }
  if (const InJson* l = f.take("Locality")) {
    auto loc = model::decodeLocality(*l);
    if (!loc) return loc.status();
    svc.set_locality_json(*loc);
  }
  f.take("Namespace");
  f.take("Partition");
  f.take("ContentHash");
  f.take("Datacenter");
  uint64_t ignored = 0;
  if (!(s = f.u64("CreateIndex", &ignored)) || !(s = f.u64("ModifyIndex", &ignored))) return s;

  std::vector<const InJson*> check_bodies;
  if (const InJson* c = f.take("Check")) check_bodies.push_back(c);
  if (const InJson* cs = f.take("Checks")) {
    if (!cs->is_array()) return f.typeError("Checks", *cs, "CheckTypes");
    for (const auto& c : *cs) check_bodies.push_back(&c);
  }
  if (Status fin = f.finish(); !fin) return fin;

  if (nested != nullptr) {
    if (!id.empty()) {
      return validationFailed(
          "A SidecarService cannot specify an ID as this is managed by the agent");
    }
    if (sidecar_body != nullptr) {
      return validationFailed("A SidecarService cannot have a nested SidecarService");
    }
    id = nested->id;
    if (name.empty()) name = nested->default_name;
  }
  if (name.empty()) return invalidArgument("Missing service name");
  if (id.empty()) id = name;
  if (address == "0.0.0.0" || address == "::" || address == "[::]") {
    return invalidArgument("Invalid service address");
  }
  if (Status m = validateMeta(meta); !m) return m;
  svc.set_node(node);
  svc.set_id(id);
  svc.set_service(name);
  svc.set_kind(kind);
  for (auto& t : tags) svc.add_tags(t);
  svc.set_address(address);
  for (auto& [k, v] : meta) (*svc.mutable_meta())[k] = v;
  svc.set_port(port);
  svc.set_socket_path(socket_path);
  svc.set_enable_tag_override(eto);
  def.token = token;
  if (sidecar_body != nullptr) {
    Nesting n{id + "-sidecar-proxy", name + "-sidecar-proxy"};
    auto sd = decodeServiceDef(*sidecar_body, node, &n);
    if (!sd) return sd.status();
    def.sidecar = std::make_shared<ServiceDef>(std::move(*sd));
  }
  // A sidecar's Kind and Proxy are defaulted at registration: it is validated after expansion.
  if (nested == nullptr) {
    if (Status v = model::validateConnect(svc, def.sidecar != nullptr); !v) {
      return validationFailed(v.message());
    }
  }

  for (size_t i = 0; i < check_bodies.size(); ++i) {
    auto cf = Fields::of(*check_bodies[i], "CheckType");
    if (!cf) return cf.status();
    CheckDef cd;
    if (Status cs = decodeCheckFields(*cf, &cd); !cs) return cs;
    if (Status cs = cf->finish(); !cs) return cs;
    pb::Check& c = cd.check;
    if (c.check_id().empty()) {
      c.set_check_id("service:" + id +
                     (check_bodies.size() > 1 ? ":" + std::to_string(i + 1) : std::string()));
    }
    if (c.name().empty()) c.set_name("Service '" + name + "' check");
    c.set_service_id(id);
    c.set_node(node);
    def.checks.push_back(std::move(cd));
  }
  return def;
}

}  // namespace

Result<ServiceDef> decodeService(const model::InJson& body, const std::string& node) {
  return decodeServiceDef(body, node, nullptr);
}

}  // namespace trellis::agent
