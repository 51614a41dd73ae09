#include "model/proxy.h"

namespace trellis::model {
namespace {

// HCL config files turn a single `upstreams { }` block into an object: accept it as a list of one.
template <typename Fn>
Status eachElement(Fields& f, std::string_view name, std::string_view go_type, Fn fn) {
  const InJson* v = f.take(name);
  if (v == nullptr) return Status::ok();
  if (v->is_object()) return fn(*v);
  if (!v->is_array()) return f.typeError(name, *v, go_type);
  for (const auto& e : *v) {
    if (Status s = fn(e); !s) return s;
  }
  return Status::ok();
}

// An opaque map kept verbatim (canonical JSON: keys sorted, as Go marshals maps).
Status opaqueMap(Fields& f, std::string_view name, std::string* out) {
  const InJson* v = f.take(name);
  if (v == nullptr) return Status::ok();
  if (!v->is_object()) return f.typeError(name, *v, "map[string]interface {}");
  *out = v->empty() ? "" : v->dump();
  return Status::ok();
}

Status decodeMeshGateway(Fields& parent, pb::MeshGatewayConfig* out) {
  const InJson* v = parent.take("MeshGateway");
  if (v == nullptr) return Status::ok();
  auto f = Fields::of(*v, "MeshGatewayConfig");
  if (!f) return f.status();
  std::string mode;
  Status s;
  if (!(s = f->str("Mode", &mode)) || !(s = f->finish())) return s;
  out->set_mode(mode);
  return Status::ok();
}

Status decodeExposePath(const InJson& v, pb::ExposePath* out) {
  auto f = Fields::of(v, "ExposePath");
  if (!f) return f.status();
  int32_t listener = 0, local = 0;
  std::string path, protocol;
  bool parsed = false;
  Status s;
  if (!(s = f->i32("ListenerPort", &listener)) || !(s = f->str("Path", &path)) ||
      !(s = f->i32("LocalPathPort", &local)) || !(s = f->str("Protocol", &protocol)) ||
      !(s = f->boolean("ParsedFromCheck", &parsed)) || !(s = f->finish())) {
    return s;
  }
  out->set_listener_port(listener);
  out->set_path(path);
  out->set_local_path_port(local);
  out->set_protocol(protocol);
  out->set_parsed_from_check(parsed);
  return Status::ok();
}

Status decodeExpose(const InJson& v, pb::ExposeConfig* out) {
  auto f = Fields::of(v, "ExposeConfig");
  if (!f) return f.status();
  bool checks = false;
  if (Status s = f->boolean("Checks", &checks); !s) return s;
  out->set_checks(checks);
  Status s = eachElement(*f, "Paths", "[]ExposePath",
                         [&](const InJson& e) { return decodeExposePath(e, out->add_paths()); });
  if (!s) return s;
  return f->finish();
}

Status decodeTransparentProxy(const InJson& v, pb::TransparentProxyConfig* out) {
  auto f = Fields::of(v, "TransparentProxyConfig");
  if (!f) return f.status();
  int32_t port = 0;
  bool direct = false;
  Status s;
  if (!(s = f->i32("OutboundListenerPort", &port)) ||
      !(s = f->boolean("DialedDirectly", &direct)) || !(s = f->finish())) {
    return s;
  }
  out->set_outbound_listener_port(port);
  out->set_dialed_directly(direct);
  return Status::ok();
}

Status decodeAccessLogs(const InJson& v, pb::AccessLogsConfig* out) {
  auto f = Fields::of(v, "AccessLogsConfig");
  if (!f) return f.status();
  bool enabled = false, no_listener = false;
  std::string type, path, json_format, text_format;
  Status s;
  if (!(s = f->boolean("Enabled", &enabled)) ||
      !(s = f->boolean("DisableListenerLogs", &no_listener)) || !(s = f->str("Type", &type)) ||
      !(s = f->str("Path", &path)) || !(s = f->str("JSONFormat", &json_format)) ||
      !(s = f->str("TextFormat", &text_format)) || !(s = f->finish())) {
    return s;
  }
  out->set_enabled(enabled);
  out->set_disable_listener_logs(no_listener);
  out->set_type(type);
  out->set_path(path);
  out->set_json_format(json_format);
  out->set_text_format(text_format);
  return Status::ok();
}

}  // namespace

Status decodeUpstream(const InJson& v, pb::Upstream* out) {
  auto fr = Fields::of(v, "Upstream");
  if (!fr) return fr.status();
  Fields& f = *fr;
  std::string type, ns, partition, peer, name, dc, bind_addr, socket_path, socket_mode;
  int32_t bind_port = 0;
  bool central = false;
  Status s;
  if (!(s = f.str("DestinationType", &type)) || !(s = f.str("DestinationNamespace", &ns)) ||
      !(s = f.str("DestinationPartition", &partition)) || !(s = f.str("DestinationPeer", &peer)) ||
      !(s = f.str("DestinationName", &name)) || !(s = f.str("Datacenter", &dc)) ||
      !(s = f.str("LocalBindAddress", &bind_addr)) || !(s = f.i32("LocalBindPort", &bind_port)) ||
      !(s = f.str("LocalBindSocketPath", &socket_path)) ||
      !(s = f.str("LocalBindSocketMode", &socket_mode)) ||
      !(s = f.boolean("CentrallyConfigured", &central)) ||
      !(s = opaqueMap(f, "Config", out->mutable_config_json())) ||
      !(s = decodeMeshGateway(f, out->mutable_mesh_gateway()))) {
    return s;
  }
  if (Status fin = f.finish(); !fin) return fin;
  out->set_destination_type(type);
  out->set_destination_namespace(ns);
  out->set_destination_partition(partition);
  out->set_destination_peer(peer);
  out->set_destination_name(name);
  out->set_datacenter(dc);
  out->set_local_bind_address(bind_addr);
  out->set_local_bind_port(bind_port);
  out->set_local_bind_socket_path(socket_path);
  out->set_local_bind_socket_mode(socket_mode);
  out->set_centrally_configured(central);
  return Status::ok();
}

Status decodeProxy(const InJson& v, pb::ConnectProxyConfig* out) {
  auto fr = Fields::of(v, "ConnectProxyConfig");
  if (!fr) return fr.status();
  Fields& f = *fr;
  std::string dest_name, dest_id, local_addr, local_socket, mode, mtls;
  int32_t local_port = 0;
  Status s;
  if (!(s = f.str("DestinationServiceName", &dest_name)) ||
      !(s = f.str("DestinationServiceID", &dest_id)) ||
      !(s = f.str("LocalServiceAddress", &local_addr)) ||
      !(s = f.i32("LocalServicePort", &local_port)) ||
      !(s = f.str("LocalServiceSocketPath", &local_socket)) || !(s = f.str("Mode", &mode)) ||
      !(s = f.str("MutualTLSMode", &mtls)) ||
      !(s = opaqueMap(f, "Config", out->mutable_config_json())) ||
      !(s = decodeMeshGateway(f, out->mutable_mesh_gateway()))) {
    return s;
  }
  s = eachElement(f, "Upstreams", "[]Upstream",
                  [&](const InJson& e) { return decodeUpstream(e, out->add_upstreams()); });
  if (!s) return s;
  if (const InJson* e = f.take("Expose"); e != nullptr) {
    if (!(s = decodeExpose(*e, out->mutable_expose()))) return s;
  }
  if (const InJson* t = f.take("TransparentProxy"); t != nullptr) {
    if (!(s = decodeTransparentProxy(*t, out->mutable_transparent_proxy()))) return s;
  }
  if (const InJson* a = f.take("AccessLogs"); a != nullptr) {
    if (!(s = decodeAccessLogs(*a, out->mutable_access_logs()))) return s;
  }
  if (const InJson* x = f.take("EnvoyExtensions"); x != nullptr) {
    if (!x->is_array()) return f.typeError("EnvoyExtensions", *x, "[]EnvoyExtension");
    if (!x->empty()) out->set_envoy_extensions_json(x->dump());
  }
  if (Status fin = f.finish(); !fin) return fin;
  out->set_destination_service_name(dest_name);
  out->set_destination_service_id(dest_id);
  out->set_local_service_address(local_addr);
  out->set_local_service_port(local_port);
  out->set_local_service_socket_path(local_socket);
  out->set_mode(mode);
  out->set_mutual_tls_mode(mtls);
  return Status::ok();
}

Result<std::string> decodeLocality(const InJson& v) {
  auto f = Fields::of(v, "Locality");
  if (!f) return f.status();
  std::string region, zone;
  Status s;
  if (!(s = f->str("Region", &region)) || !(s = f->str("Zone", &zone)) || !(s = f->finish())) {
    return s;
  }
  if (v.is_null()) return std::string();
  nlohmann::ordered_json j;
  j["Region"] = region;
  j["Zone"] = zone;
  return j.dump();
}

bool isGatewayKind(const std::string& kind) {
  return kind == "mesh-gateway" || kind == "terminating-gateway" || kind == "ingress-gateway" ||
         kind == "api-gateway";
}

bool proxyIsEmpty(const pb::ConnectProxyConfig& p) {
  // Present-but-empty sub-blocks ({"MeshGateway":{}}) count as empty: compare what renders.
  static const Json kEmpty = renderProxy(pb::ConnectProxyConfig(), ProxyView::kAgent);
  return renderProxy(p, ProxyView::kAgent) == kEmpty;
}

std::string joinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string upstreamId(const pb::Upstream& u) {
  std::string id;
  if (!u.destination_type().empty() && u.destination_type() != kUpstreamService) {
    id = u.destination_type() + ":";
  }
  id += u.destination_name();
  if (!u.destination_peer().empty()) {
    id += "?peer=" + u.destination_peer();
  } else if (!u.datacenter().empty()) {
    id += "?dc=" + u.datacenter();
  }
  return id;
}

std::string upstreamBindAddress(const pb::Upstream& u) {
  if (u.local_bind_port() == 0 && u.local_bind_address().empty() &&
      !u.local_bind_socket_path().empty()) {
    return u.local_bind_socket_path();
  }
  return joinHostPort(u.local_bind_address().empty() ? "127.0.0.1" : u.local_bind_address(),
                      u.local_bind_port());
}

}  // namespace trellis::model
