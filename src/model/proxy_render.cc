// Consul's two JSON shapes of the Proxy block (see proxy.h). Field order follows Go's structs.
#include "model/proxy.h"

namespace trellis::model {
namespace {

Json opaque(const std::string& text) {
  if (text.empty()) return Json::object();
  Json v = Json::parse(text, nullptr, false);
  return v.is_discarded() ? Json::object() : v;
}

Json meshGateway(const pb::MeshGatewayConfig& m) {
  Json j = Json::object();
  if (!m.mode().empty()) j["Mode"] = m.mode();
  return j;
}

Json expose(const pb::ExposeConfig& e) {
  Json j = Json::object();
  if (e.checks()) j["Checks"] = true;
  if (e.paths_size() > 0) {
    Json paths = Json::array();
    for (const auto& p : e.paths()) {
      Json pj = Json::object();
      if (p.listener_port() != 0) pj["ListenerPort"] = p.listener_port();
      if (!p.path().empty()) pj["Path"] = p.path();
      if (p.local_path_port() != 0) pj["LocalPathPort"] = p.local_path_port();
      if (!p.protocol().empty()) pj["Protocol"] = p.protocol();
      if (p.parsed_from_check()) pj["ParsedFromCheck"] = true;
      paths.push_back(std::move(pj));
    }
    j["Paths"] = std::move(paths);
  }
  return j;
}

bool hasTransparentProxy(const pb::ConnectProxyConfig& p) {
  return p.has_transparent_proxy() && (p.transparent_proxy().outbound_listener_port() != 0 ||
                                       p.transparent_proxy().dialed_directly());
}

Json transparentProxy(const pb::TransparentProxyConfig& t) {
  Json j = Json::object();
  if (t.outbound_listener_port() != 0) j["OutboundListenerPort"] = t.outbound_listener_port();
  if (t.dialed_directly()) j["DialedDirectly"] = true;
  return j;
}

bool hasAccessLogs(const pb::ConnectProxyConfig& p) {
  return p.has_access_logs() && p.access_logs().ByteSizeLong() > 0;
}

Json accessLogs(const pb::AccessLogsConfig& a) {
  Json j = Json::object();
  if (a.enabled()) j["Enabled"] = true;
  if (a.disable_listener_logs()) j["DisableListenerLogs"] = true;
  if (!a.type().empty()) j["Type"] = a.type();
  if (!a.path().empty()) j["Path"] = a.path();
  if (!a.json_format().empty()) j["JSONFormat"] = a.json_format();
  if (!a.text_format().empty()) j["TextFormat"] = a.text_format();
  return j;
}

}  // namespace

Json renderUpstream(const pb::Upstream& u, ProxyView view) {
  bool catalog = view == ProxyView::kCatalog;
  Json j;
  if (catalog || !u.destination_type().empty()) j["DestinationType"] = u.destination_type();
  if (!u.destination_namespace().empty()) j["DestinationNamespace"] = u.destination_namespace();
  if (!u.destination_partition().empty()) j["DestinationPartition"] = u.destination_partition();
  if (!u.destination_peer().empty()) j["DestinationPeer"] = u.destination_peer();
  j["DestinationName"] = u.destination_name();
  if (catalog || !u.datacenter().empty()) j["Datacenter"] = u.datacenter();
  if (!u.local_bind_address().empty()) j["LocalBindAddress"] = u.local_bind_address();
  if (u.local_bind_port() != 0) j["LocalBindPort"] = u.local_bind_port();
  if (!u.local_bind_socket_path().empty()) j["LocalBindSocketPath"] = u.local_bind_socket_path();
  if (!u.local_bind_socket_mode().empty()) j["LocalBindSocketMode"] = u.local_bind_socket_mode();
  if (!u.config_json().empty()) j["Config"] = opaque(u.config_json());
  j["MeshGateway"] = meshGateway(u.mesh_gateway());
  if (u.centrally_configured()) j["CentrallyConfigured"] = true;
  return j;
}

Json renderProxy(const pb::ConnectProxyConfig& p, ProxyView view) {
  bool catalog = view == ProxyView::kCatalog;
  Json j = Json::object();
  if (!p.envoy_extensions_json().empty()) j["EnvoyExtensions"] = opaque(p.envoy_extensions_json());
  if (!p.destination_service_name().empty()) {
    j["DestinationServiceName"] = p.destination_service_name();
  }
  if (!p.destination_service_id().empty()) j["DestinationServiceID"] = p.destination_service_id();
  if (!p.local_service_address().empty()) j["LocalServiceAddress"] = p.local_service_address();
  if (p.local_service_port() != 0) j["LocalServicePort"] = p.local_service_port();
  if (!p.local_service_socket_path().empty()) {
    j["LocalServiceSocketPath"] = p.local_service_socket_path();
  }
  if (catalog || !p.mode().empty()) j["Mode"] = p.mode();
  if (hasTransparentProxy(p)) j["TransparentProxy"] = transparentProxy(p.transparent_proxy());
  if (!p.mutual_tls_mode().empty()) j["MutualTLSMode"] = p.mutual_tls_mode();
  if (!p.config_json().empty()) j["Config"] = opaque(p.config_json());
  if (p.upstreams_size() > 0) {
    Json ups = Json::array();
    for (const auto& u : p.upstreams()) ups.push_back(renderUpstream(u, view));
    j["Upstreams"] = std::move(ups);
  }
  j["MeshGateway"] = meshGateway(p.mesh_gateway());
  j["Expose"] = expose(p.expose());
  if (hasAccessLogs(p)) j["AccessLogs"] = accessLogs(p.access_logs());
  return j;
}

Json renderConnect(bool native) {
  Json j = Json::object();
  if (native) j["Native"] = true;
  return j;
}

}  // namespace trellis::model
