#include "model/render.h"

#include "common/base64.h"
#include "common/duration.h"
#include "model/proxy.h"

namespace trellis::model {
namespace {

template <typename Map>
Json stringMap(const Map& m) {
  Json out = Json::object();
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  for (const auto& [k, v] : sorted) out[k] = v;
  return out;
}

template <typename List>
Json stringList(const List& l) {
  Json out = Json::array();
  for (const auto& v : l) out.push_back(v);
  return out;
}

std::string dur(int64_t ns) { return formatGoDuration(std::chrono::nanoseconds(ns)); }

}  // namespace

Json rawObject(const std::string& text) {
  if (text.empty()) return Json::object();
  Json v = Json::parse(text, nullptr, false);
  return v.is_discarded() ? Json::object() : v;
}

Json renderNode(const pb::Node& n) {
  Json j;
  j["ID"] = n.id();
  j["Node"] = n.node();
  j["Address"] = n.address();
  j["Datacenter"] = n.datacenter();
  j["TaggedAddresses"] = stringMap(n.tagged_addresses());
  j["Meta"] = stringMap(n.meta());
  j["CreateIndex"] = n.create_index();
  j["ModifyIndex"] = n.modify_index();
  return j;
}

Json renderWeights(const pb::Service& s) {
  Json w;
  w["Passing"] = s.has_weights() ? s.weights().passing() : 1;
  w["Warning"] = s.has_weights() ? s.weights().warning() : 1;
  return w;
}

Json renderServiceTaggedAddresses(const pb::Service& s) {
  Json out = Json::object();
  std::map<std::string, pb::ServiceAddress> sorted(s.tagged_addresses().begin(),
                                                   s.tagged_addresses().end());
  for (const auto& [k, v] : sorted) out[k] = Json{{"Address", v.address()}, {"Port", v.port()}};
  return out;
}

Json renderAgentService(const pb::Service& s, bool with_indexes, const std::string& datacenter) {
  Json j;
  if (!s.kind().empty()) j["Kind"] = s.kind();
  j["ID"] = s.id();
  j["Service"] = s.service();
  j["Tags"] = stringList(s.tags());
  j["Meta"] = stringMap(s.meta());
  j["Port"] = s.port();
  j["Address"] = s.address();
  if (!s.socket_path().empty()) j["SocketPath"] = s.socket_path();
  if (s.tagged_addresses_size() > 0) j["TaggedAddresses"] = renderServiceTaggedAddresses(s);
  j["Weights"] = renderWeights(s);
  j["EnableTagOverride"] = s.enable_tag_override();
  // The agent endpoints answer with api.AgentService (Proxy only for proxies and gateways, Connect
  // only when native); catalog rows with structs.NodeService, which always carries both.
  if (with_indexes) {
    j["Proxy"] = renderProxy(s.proxy(), ProxyView::kCatalog);
    j["Connect"] = renderConnect(s.connect_native());
  } else {
    if (s.kind() == kConnectProxyKind || isGatewayKind(s.kind())) {
      j["Proxy"] = renderProxy(s.proxy(), ProxyView::kAgent);
    }
    if (s.connect_native()) j["Connect"] = renderConnect(true);
  }
  if (!s.locality_json().empty()) j["Locality"] = rawObject(s.locality_json());
  if (with_indexes) {
    j["CreateIndex"] = s.create_index();
    j["ModifyIndex"] = s.modify_index();
  }
  if (!datacenter.empty()) j["Datacenter"] = datacenter;
  return j;
}

Json renderCatalogService(const pb::Node& n, const pb::Service& s) {
  Json j;
  j["ID"] = n.id();
  j["Node"] = n.node();
  j["Address"] = n.address();
  j["Datacenter"] = n.datacenter();
  j["TaggedAddresses"] = stringMap(n.tagged_addresses());
  j["NodeMeta"] = stringMap(n.meta());
  j["ServiceKind"] = s.kind();
  j["ServiceID"] = s.id();
  j["ServiceName"] = s.service();
  j["ServiceTags"] = stringList(s.tags());
  j["ServiceAddress"] = s.address();
  j["ServiceTaggedAddresses"] = renderServiceTaggedAddresses(s);
  j["ServiceWeights"] = renderWeights(s);
  j["ServiceMeta"] = stringMap(s.meta());
  j["ServicePort"] = s.port();
  j["ServiceSocketPath"] = s.socket_path();
  j["ServiceEnableTagOverride"] = s.enable_tag_override();
  j["ServiceProxy"] = renderProxy(s.proxy(), ProxyView::kCatalog);
  j["ServiceConnect"] = renderConnect(s.connect_native());
  if (!s.locality_json().empty()) j["ServiceLocality"] = rawObject(s.locality_json());
  j["CreateIndex"] = s.create_index();
  j["ModifyIndex"] = s.modify_index();
  return j;
}

Json renderCheck(const pb::Check& c) {
  const auto& d = c.definition();
  Json j;
  j["Node"] = c.node();
  j["CheckID"] = c.check_id();
  j["Name"] = c.name();
  j["Status"] = c.status();
  j["Notes"] = c.notes();
  j["Output"] = c.output();
  j["ServiceID"] = c.service_id();
  j["ServiceName"] = c.service_name();
  j["ServiceTags"] = stringList(c.service_tags());
  j["Type"] = c.type();
  j["Interval"] = d.interval_ns() > 0 ? dur(d.interval_ns()) : "";
  j["Timeout"] = d.timeout_ns() > 0 ? dur(d.timeout_ns()) : "";
  j["ExposedPort"] = c.exposed_port();
  Json def = Json::object();
  if (!d.http().empty()) def["HTTP"] = d.http();
  if (d.header_size() > 0) {
    Json h = Json::object();
    for (const auto& [k, v] : d.header()) h[k] = stringList(v.values());
    def["Header"] = h;
  }
  if (!d.method().empty()) def["Method"] = d.method();
  if (!d.body().empty()) def["Body"] = d.body();
  if (!d.tls_server_name().empty()) def["TLSServerName"] = d.tls_server_name();
  if (d.tls_skip_verify()) def["TLSSkipVerify"] = true;
  if (!d.tcp().empty()) def["TCP"] = d.tcp();
  if (!d.udp().empty()) def["UDP"] = d.udp();
  if (!d.grpc().empty()) def["GRPC"] = d.grpc();
  if (d.grpc_use_tls()) def["GRPCUseTLS"] = true;
  if (d.interval_ns() > 0) def["Interval"] = dur(d.interval_ns());
  if (d.timeout_ns() > 0) def["Timeout"] = dur(d.timeout_ns());
  if (d.deregister_critical_service_after_ns() > 0) {
    def["DeregisterCriticalServiceAfter"] = dur(d.deregister_critical_service_after_ns());
  }
  j["Definition"] = def;
  j["CreateIndex"] = c.create_index();
  j["ModifyIndex"] = c.modify_index();
  return j;
}

Json renderKv(const pb::KVEntry& e, bool with_value) {
  Json j;
  j["LockIndex"] = e.lock_index();
  j["Key"] = e.key();
  j["Flags"] = e.flags();
  if (with_value && e.has_value()) {
    j["Value"] = base64Encode(e.value());
  } else {
    j["Value"] = nullptr;
  }
  if (!e.session().empty()) j["Session"] = e.session();
  j["CreateIndex"] = e.create_index();
  j["ModifyIndex"] = e.modify_index();
  return j;
}

Json renderSession(const pb::Session& s) {
  Json j;
  j["ID"] = s.id();
  j["Name"] = s.name();
  j["Node"] = s.node();
  j["LockDelay"] = s.lock_delay_ns();
  j["Behavior"] = s.behavior();
  j["TTL"] = s.ttl();
  j["NodeChecks"] = stringList(s.node_checks());
  if (s.service_checks_size() == 0) {
    j["ServiceChecks"] = nullptr;
  } else {
    Json sc = Json::array();
    for (const auto& c : s.service_checks()) sc.push_back({{"ID", c.id()}, {"Namespace", c.namespace_()}});
    j["ServiceChecks"] = sc;
  }
  j["CreateIndex"] = s.create_index();
  j["ModifyIndex"] = s.modify_index();
  return j;
}

}  // namespace trellis::model
