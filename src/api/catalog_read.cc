#include "api/catalog_read.h"

#include <algorithm>

#include "model/proxy.h"
#include "state/watch.h"

namespace trellis::api {

bool nodeMetaMatches(const http::Request& req, const pb::Node& node) {
  for (const auto& kv : req.params("node-meta")) {
    size_t colon = kv.find(':');
    std::string k = kv.substr(0, colon);
    std::string v = colon == std::string::npos ? "" : kv.substr(colon + 1);
    auto it = node.meta().find(k);
    if (it == node.meta().end() || it->second != v) return false;
  }
  return true;
}

bool tagsMatch(const http::Request& req, const pb::Service& svc) {
  for (const auto& t : req.params("tag")) {
    if (std::find(svc.tags().begin(), svc.tags().end(), t) == svc.tags().end()) return false;
  }
  return true;
}

std::vector<const pb::Service*> connectInstances(const Context& ctx, const std::string& name) {
  std::vector<const pb::Service*> out;
  for (const auto& [key, svc] : ctx.store.services()) {
    bool proxy = svc.kind() == model::kConnectProxyKind &&
                 svc.proxy().destination_service_name() == name;
    bool native = svc.connect_native() && svc.service() == name;
    if (proxy || native) out.push_back(&svc);
  }
  return out;
}

Json renderServiceEntry(const Context& ctx, const pb::Node& node, const pb::Service& svc) {
  Json e;
  e["Node"] = model::renderNode(node);
  e["Service"] = model::renderAgentService(svc, true, "");
  Json checks = Json::array();
  for (const pb::Check* c : ctx.store.nodeChecks(node.node())) {
    if (c->service_id().empty() || c->service_id() == svc.id()) {
      checks.push_back(model::renderCheck(*c));
    }
  }
  e["Checks"] = std::move(checks);
  return e;
}

uint64_t catalogIndex(const Context& ctx) {
  return ctx.store.maxIndex({state::kNodes, state::kServices, state::kChecks});
}

std::vector<std::string> catalogTopics() {
  return {state::WatchHub::tableTopic(state::kNodes), state::WatchHub::tableTopic(state::kServices),
          state::WatchHub::tableTopic(state::kChecks)};
}

}  // namespace trellis::api
