#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "xds/generators/common.h"
#include "xds/generators/generators.h"
#include "xds/generators/proto_util.h"
#include "xds/generators/rbac.h"
#include "xds/generators/routes.h"
#include "xds/generators/tls.h"

namespace trellis::xds {

namespace {

using envoy::config::listener::v3::Filter;
using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr std::string_view kPublicListener = "public_listener";

Filter networkFilter(std::string_view name, const google::protobuf::Message& config) {
  Filter f;
  f.set_name(std::string(name));
  packAny(*f.mutable_typed_config(), config);
  return f;
}

void addHttpFilter(HttpConnectionManager& hcm, std::string_view name,
                   const google::protobuf::Message& config) {
  auto* f = hcm.add_http_filters();
  f->set_name(std::string(name));
  packAny(*f->mutable_typed_config(), config);
}

void addRouter(HttpConnectionManager& hcm) {
  addHttpFilter(hcm, "envoy.filters.http.router",
                envoy::extensions::filters::http::router::v3::Router());
}

Filter tcpProxy(const std::string& stat_prefix, const std::string& cluster) {
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  tcp.set_stat_prefix(stat_prefix);
  tcp.set_cluster(cluster);
  return networkFilter("envoy.filters.network.tcp_proxy", tcp);
}

Listener boundListener(std::string name, const std::string& address, uint32_t port,
                       envoy::config::core::v3::TrafficDirection direction) {
  Listener l;
  l.set_name(std::move(name));
  auto* sa = l.mutable_address()->mutable_socket_address();
  sa->set_address(address);
  sa->set_port_value(port);
  l.set_traffic_direction(direction);
  return l;
}

// Inbound: mTLS, then intentions, then the local app. TCP uses the network RBAC filter (checked
// once per connection); HTTP-family protocols check every request in the HTTP RBAC filter and
// pass the caller's certificate details on in XFCC.
Listener publicListener(const proxycfg::ConfigSnapshot& snap) {
  Listener l =
      boundListener(std::string(kPublicListener) + ":" + snap.public_bind_address + ":" +
                        std::to_string(snap.public_port),
                    snap.public_bind_address, snap.public_port, envoy::config::core::v3::INBOUND);
  auto* chain = l.add_filter_chains();
  const std::string local_app(kLocalAppCluster);
  const bool http = isHttpProtocol(snap.protocol);
  auto rules = makeRbacRules(*snap.intentions, snap.roots->trust_domain, http);
  if (!http) {
    envoy::extensions::filters::network::rbac::v3::RBAC rbac;
    rbac.set_stat_prefix("connect_authz");
    *rbac.mutable_rules() = std::move(rules);
    *chain->add_filters() = networkFilter("envoy.filters.network.rbac", rbac);
    *chain->add_filters() = tcpProxy(std::string(kPublicListener), local_app);
  } else {
    HttpConnectionManager hcm;
    hcm.set_stat_prefix(std::string(kPublicListener));
    *hcm.mutable_route_config() = singleRouteConfig(std::string(kPublicListener), "/", local_app);
    envoy::extensions::filters::http::rbac::v3::RBAC rbac;
    *rbac.mutable_rules() = std::move(rules);
    addHttpFilter(hcm, "envoy.filters.http.rbac", rbac);
    addRouter(hcm);
    if (isHttp2Protocol(snap.protocol)) hcm.mutable_http2_protocol_options();
    hcm.set_forward_client_cert_details(HttpConnectionManager::APPEND_FORWARD);
    auto* details = hcm.mutable_set_current_client_cert_details();
    details->mutable_subject()->set_value(true);
    details->set_cert(true);
    details->set_chain(true);
    details->set_dns(true);
    details->set_uri(true);
    *chain->add_filters() = networkFilter("envoy.filters.network.http_connection_manager", hcm);
  }
  *chain->mutable_transport_socket() = downstreamTlsSocket(snap);
  return l;
}

Listener upstreamListener(const proxycfg::UpstreamSnapshot& up) {
  Listener l = boundListener(up.id + ":" + up.bind_address + ":" + std::to_string(up.bind_port),
                             up.bind_address, up.bind_port, envoy::config::core::v3::OUTBOUND);
  auto* chain = l.add_filter_chains();
  if (!isHttpProtocol(up.protocol)) {
    *chain->add_filters() = tcpProxy(upstreamStatPrefix(up), up.cluster_name);
    return l;
  }
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(upstreamStatPrefix(up));
  hcm.mutable_rds()->set_route_config_name(up.id);
  setAdsSource(*hcm.mutable_rds()->mutable_config_source());
  addRouter(hcm);
  if (isHttp2Protocol(up.protocol)) hcm.mutable_http2_protocol_options();
  *chain->add_filters() = networkFilter("envoy.filters.network.http_connection_manager", hcm);
  return l;
}

// What @grpc/grpc-js-xds resolves `xds:///<name>` to: a Listener named exactly as asked, whose
// api_listener routes everything to the upstream's cluster. Plaintext; no TLS anywhere.
Listener proxylessListener(const std::string& name, const proxycfg::UpstreamSnapshot& up) {
  Listener l;
  l.set_name(name);
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  *hcm.mutable_route_config() = singleRouteConfig(name, "", up.cluster_name);
  addRouter(hcm);
  packAny(*l.mutable_api_listener()->mutable_api_listener(), hcm);
  return l;
}

}  // namespace

TypeResources generateListeners(const proxycfg::ConfigSnapshot& snap) {
  TypeResources out;
  if (!isComplete(snap)) return out;
  auto add = [&out](const Listener& l) { out.emplace(l.name(), makeMessageResource(l.name(), l)); };
  if (snap.kind == proxycfg::ProxyKind::kProxyless) {
    for (const auto& name : snap.proxyless_services) {
      if (const auto* up = findProxylessUpstream(snap, name)) add(proxylessListener(name, *up));
    }
    return out;
  }
  add(publicListener(snap));
  for (const auto& up : snap.upstreams) add(upstreamListener(up));
  return out;
}

}  // namespace trellis::xds
