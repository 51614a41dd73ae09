#include "proxycfg/manager.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/log.h"

namespace trellis::proxycfg {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr const char* kConnectProxy = "connect-proxy";

json parseObject(const std::string& text) {
  if (text.empty()) return json::object();
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

// Opaque Config maps keep the user's keys; Consul reads them case-sensitively in snake_case.
std::string configString(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return "";
}

// Numbers may arrive as JSON numbers or strings ("5000") depending on the client.
uint32_t configUint(const json& cfg, const char* key, uint32_t fallback) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return fallback;
  if (it->is_number_unsigned()) return it->get<uint32_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return uint32_t(it->get<int64_t>());
  if (it->is_number_float() && it->get<double>() >= 0) return uint32_t(it->get<double>());
  if (it->is_string()) {
    try {
      return uint32_t(std::stoul(it->get<std::string>()));
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

bool sameEndpoints(const EndpointSet& a, const EndpointSet& b) {
  if (a.endpoints.size() != b.endpoints.size()) return false;
  for (size_t i = 0; i < a.endpoints.size(); ++i) {
    const Endpoint& x = a.endpoints[i];
    const Endpoint& y = b.endpoints[i];
    if (x.address != y.address || x.port != y.port || x.healthy != y.healthy ||
        x.weight != y.weight || x.node != y.node || x.service_id != y.service_id) {
      return false;
    }
  }
  return true;
}

bool sameIntentions(const Intentions& a, const Intentions& b) {
  if (a.default_allow != b.default_allow || a.sorted.size() != b.sorted.size()) return false;
  for (size_t i = 0; i < a.sorted.size(); ++i) {
    const auto& x = a.sorted[i];
    const auto& y = b.sorted[i];
    if (x.source_name != y.source_name || x.source_ns != y.source_ns ||
        x.destination_name != y.destination_name || x.action != y.action ||
        x.precedence != y.precedence || x.modify_index != y.modify_index) {
      return false;
    }
  }
  return true;
}

}  // namespace

Manager::Manager(asio::io_context& io, state::Store& store, ManagerConfig config,
                 LeafFetcher leaf, RootsFetcher roots, IntentionsFetcher intentions)
    : io_(io),
      store_(store),
      config_(std::move(config)),
      leaf_fetcher_(std::move(leaf)),
      roots_fetcher_(std::move(roots)),
      intentions_fetcher_(std::move(intentions)),
      waiter_([this] { schedule(); }),
      coalesce_timer_(io),
      leaf_timer_(io) {}

Manager::~Manager() {
  *alive_ = false;
  waiter_.cancel();
}

uint64_t Manager::add(const std::string& proxy_id, Callback cb, bool use_sds) {
  uint64_t id = next_id_++;
  Watch w;
  w.proxy_id = proxy_id;
  w.cb = std::move(cb);
  w.use_sds = use_sds || config_.use_sds;
  watches_[id] = std::move(w);
  if (watches_.size() == 1) {
    watchStore();
    startLeafTimer();
  }
  schedule();
  return id;
}

void Manager::setProxylessNames(uint64_t id, std::vector<std::string> names) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (it->second.proxyless_names == names) return;
  it->second.proxyless_names = std::move(names);
  schedule();
}

void Manager::remove(uint64_t id) {
  watches_.erase(id);
  if (watches_.empty()) {
    waiter_.cancel();
    coalesce_timer_.cancel();
    leaf_timer_.cancel();
    scheduled_ = false;
  }
}

void Manager::watchStore() {
  auto& hub = store_.watches();
  waiter_.cancel();
  for (const char* t : {state::kNodes, state::kServices, state::kChecks, state::kConfigEntries,
                        state::kCaRoots}) {
    hub.watch(waiter_, state::WatchHub::tableTopic(t));
  }
}

// Leaves renew on their own clock, not on a store write: look at them periodically.
void Manager::startLeafTimer() {
  leaf_timer_.expires_after(config_.leaf_recheck);
  leaf_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive || watches_.empty()) return;
    refreshLeaves();
    startLeafTimer();
  });
}

void Manager::schedule() {
  if (scheduled_ || watches_.empty()) return;
  scheduled_ = true;
  coalesce_timer_.expires_after(config_.coalesce);
  coalesce_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    scheduled_ = false;
    pass();
  });
}

void Manager::pass() {
  ++passes_;
  // Re-register first: a write during this pass schedules the next one.
  watchStore();
  auto roots = roots_fetcher_();
  if (roots && (!roots_ || roots->index != roots_->index ||
                roots->active_root_id != roots_->active_root_id ||
                roots->root_pems != roots_->root_pems)) {
    roots_ = std::move(roots);
  }
  entries_index_ = store_.tableIndex(state::kConfigEntries);
  catalog_index_ = store_.maxIndex({state::kNodes, state::kServices, state::kChecks});
  refreshLeaves();

  for (auto& [id, w] : watches_) {
    const pb::Service* reg = store_.service(config_.node, w.proxy_id);
    std::shared_ptr<ConfigSnapshot> snap;
    bool sidecar = reg != nullptr && reg->kind() == kConnectProxy;
    if (sidecar && w.last && w.last->kind == ProxyKind::kSidecar &&
        w.reg_index == reg->modify_index() && w.entries_index == entries_index_ &&
        w.last->roots == roots_ && w.last->leaf == leaves_[w.last->service]) {
      snap = refreshEndpointsOnly(w);
      if (!snap) continue;
    } else if (sidecar) {
      snap = buildSidecar(*reg, w.use_sds);
      w.reg_index = reg->modify_index();
      w.entries_index = entries_index_;
    } else {
      snap = buildProxyless(w);
    }
    if (!snap) continue;  // incomplete: wait for roots or the leaf
    if (w.last && sameSnapshot(*w.last, *snap)) continue;
    if (snap->shape == 0) snap->shape = ++shapes_;  // full rebuild (endpoint-only copies keep it)
    w.last = snap;
    ++published_;
    w.cb(w.last);
  }
  std::erase_if(endpoints_, [&](const auto& kv) { return kv.second.used_pass != passes_; });
  std::erase_if(intentions_, [&](const auto& kv) { return kv.second.used_pass != passes_; });
}

std::shared_ptr<ConfigSnapshot> Manager::refreshEndpointsOnly(const Watch& w) {
  std::vector<std::shared_ptr<const EndpointSet>> sets;
  bool changed = false;
  for (const UpstreamSnapshot& u : w.last->upstreams) {
    sets.push_back(endpointsFor(Target{u.destination_name, u.datacenter, true}));
    changed = changed || sets.back() != u.endpoints;
  }
  intentionsFor(w.last->service);  // keeps it in use
  if (!changed) return nullptr;
  auto snap = std::make_shared<ConfigSnapshot>(*w.last);
  for (size_t i = 0; i < sets.size(); ++i) snap->upstreams[i].endpoints = std::move(sets[i]);
  snap->index = std::max(snap->index, catalog_index_);
  return snap;
}

std::shared_ptr<const Intentions> Manager::intentionsFor(const std::string& service) {
  auto& slot = intentions_[service];
  slot.used_pass = passes_;
  if (slot.value && slot.checked == entries_index_) return slot.value;
  slot.checked = entries_index_;
  auto set = intentions_fetcher_();
  auto fresh = std::make_shared<Intentions>();
  fresh->default_allow = config_.default_allow;
  fresh->index = entries_index_;
  if (set) {
    for (const intentions::Intention* ixn :
         set->match(intentions::MatchType::kDestination, service)) {
      fresh->sorted.push_back(*ixn);
    }
  }
  if (!slot.value || !sameIntentions(*slot.value, *fresh)) slot.value = std::move(fresh);
  return slot.value;
}

std::shared_ptr<const EndpointSet> Manager::endpointsFor(const Target& t) {
  auto& slot = endpoints_[t];
  slot.used_pass = passes_;
  if (slot.value && slot.checked == catalog_index_) return slot.value;
  slot.checked = catalog_index_;
  auto set = std::make_shared<EndpointSet>();
  set->service = t.service;
  set->datacenter = t.datacenter;
  set->index = catalog_index_;
  if (t.datacenter == config_.datacenter) {
    std::vector<const pb::Service*> instances;
    if (t.connect) {
      // Sidecars whose destination is the service, and Connect-native instances of it.
      for (const auto& [key, svc] : store_.services()) {
        if (svc.kind() == kConnectProxy && svc.proxy().destination_service_name() == t.service) {
          instances.push_back(&svc);
        } else if (svc.connect_native() && svc.service() == t.service) {
          instances.push_back(&svc);
        }
      }
    } else {
      for (const pb::Service* svc : store_.servicesByName(t.service)) {
        if (svc->kind().empty()) instances.push_back(svc);
      }
    }
    for (const pb::Service* svc : instances) set->endpoints.push_back(endpointOf(*svc));
    std::sort(set->endpoints.begin(), set->endpoints.end(),
              [](const Endpoint& a, const Endpoint& b) {
                return std::tie(a.node, a.service_id) < std::tie(b.node, b.service_id);
              });
  }
  if (!slot.value || !sameEndpoints(*slot.value, *set)) slot.value = std::move(set);
  return slot.value;
}

// Consul's rule: any critical check of the node or the instance makes it unhealthy; a warning
// keeps it but weighs it by Weights.Warning.
Endpoint Manager::endpointOf(const pb::Service& svc) const {
  Endpoint e;
  e.node = svc.node();
  e.service_id = svc.id();
  e.address = svc.address();
  if (e.address.empty()) {
    const pb::Node* n = store_.node(svc.node());
    if (n != nullptr) e.address = n->address();
  }
  e.port = uint32_t(svc.port());
  bool critical = false, warning = false;
  auto look = [&](const pb::Check* c) {
    if (c->status() == "critical") critical = true;
    if (c->status() == "warning") warning = true;
  };
  for (const pb::Check* c : store_.nodeChecks(svc.node())) {
    if (c->service_id().empty()) look(c);
  }
  for (const pb::Check* c : store_.serviceInstanceChecks(svc.node(), svc.id())) look(c);
  e.healthy = !critical;
  int32_t passing_w = svc.has_weights() ? svc.weights().passing() : 1;
  int32_t warning_w = svc.has_weights() ? svc.weights().warning() : 1;
  e.weight = uint32_t(std::max(1, warning ? warning_w : passing_w));
  return e;
}

void Manager::refreshLeaves() {
  if (!roots_) return;
  std::set<std::string> wanted;
  for (const auto& [id, w] : watches_) {
    const pb::Service* reg = store_.service(config_.node, w.proxy_id);
    if (reg != nullptr && reg->kind() == kConnectProxy) {
      wanted.insert(reg->proxy().destination_service_name());
    }
  }
  for (auto it = leaves_.begin(); it != leaves_.end();) {
    it = wanted.count(it->first) ? std::next(it) : leaves_.erase(it);
  }
  for (const std::string& service : wanted) {
    if (leaf_in_flight_.count(service)) continue;
    leaf_in_flight_.insert(service);
    // The fetcher answers from the agent's cache while the leaf is fresh; it signs a new one when
    // renewal is due or the roots rotated.
    asio::co_spawn(
        io_,
        [this, alive = alive_, service]() -> asio::awaitable<void> {
          auto leaf = co_await leaf_fetcher_(service);
          if (!*alive) co_return;
          leaf_in_flight_.erase(service);
          if (!leaf) {
            TLOG_WARN("proxycfg: leaf for {}: {}", service, leaf.status().message());
            co_return;
          }
          auto& slot = leaves_[service];
          if (!slot || slot->serial != (*leaf)->serial) {
            slot = *leaf;
            schedule();
          }
        },
        asio::detached);
  }
}

std::string Manager::protocolFor(const std::string& service,
                                 const std::string& upstream_config) const {
  std::string p = configString(parseObject(upstream_config), "protocol");
  if (!p.empty()) return p;
  if (const pb::ConfigEntry* sd = store_.configEntry("service-defaults", service)) {
    p = configString(parseObject(sd->json()), "Protocol");
    if (!p.empty()) return p;
  }
  if (const pb::ConfigEntry* pd = store_.configEntry("proxy-defaults", "global")) {
    json j = parseObject(pd->json());
    if (j.contains("Config") && j["Config"].is_object()) {
      p = configString(j["Config"], "protocol");
      if (!p.empty()) return p;
    }
  }
  return "tcp";
}

std::shared_ptr<ConfigSnapshot> Manager::buildSidecar(const pb::Service& reg, bool use_sds) {
  const pb::ConnectProxyConfig& proxy = reg.proxy();
  if (!roots_) return nullptr;
  auto leaf = leaves_.find(proxy.destination_service_name());
  if (leaf == leaves_.end()) return nullptr;

  auto s = std::make_shared<ConfigSnapshot>();
  s->kind = ProxyKind::kSidecar;
  s->proxy_id = reg.id();
  s->service = proxy.destination_service_name();
  s->service_id = proxy.destination_service_id();
  s->datacenter = config_.datacenter;
  s->use_sds = use_sds;
  json cfg = parseObject(proxy.config_json());
  s->public_bind_address = configString(cfg, "bind_address");
  if (s->public_bind_address.empty()) s->public_bind_address = reg.address();
  if (s->public_bind_address.empty()) s->public_bind_address = "0.0.0.0";
  s->public_port = configUint(cfg, "bind_port", uint32_t(reg.port()));
  s->local_service_address =
      proxy.local_service_address().empty() ? "127.0.0.1" : proxy.local_service_address();
  s->local_service_port = uint32_t(proxy.local_service_port());
  s->local_connect_timeout_ms = configUint(cfg, "local_connect_timeout_ms", 5000);
  s->protocol = protocolFor(s->service, proxy.config_json());
  s->roots = roots_;
  s->leaf = leaf->second;
  s->intentions = intentionsFor(s->service);
  s->index = std::max({catalog_index_, entries_index_, roots_->index, leaf->second->index,
                       reg.modify_index()});

  for (const pb::Upstream& up : proxy.upstreams()) {
    if (!up.destination_type().empty() && up.destination_type() != "service") continue;
    UpstreamSnapshot u;
    u.destination_name = up.destination_name();
    u.datacenter = up.datacenter().empty() ? config_.datacenter : up.datacenter();
    u.id = u.destination_name;
    if (u.datacenter != config_.datacenter) u.id += "?dc=" + u.datacenter;
    if (!up.local_bind_address().empty()) u.bind_address = up.local_bind_address();
    u.bind_port = uint32_t(up.local_bind_port());
    u.protocol = protocolFor(u.destination_name, up.config_json());
    u.connect_timeout_ms = configUint(parseObject(up.config_json()), "connect_timeout_ms", 5000);
    u.cluster_name = u.destination_name + ".default." + u.datacenter + ".internal." +
                     roots_->trust_domain;
    u.spiffe_id = "spiffe://" + roots_->trust_domain + "/ns/default/dc/" + u.datacenter + "/svc/" +
                  u.destination_name;
    u.endpoints = endpointsFor(Target{u.destination_name, u.datacenter, true});
    s->upstreams.push_back(std::move(u));
  }
  std::sort(s->upstreams.begin(), s->upstreams.end(),
            [](const UpstreamSnapshot& a, const UpstreamSnapshot& b) { return a.id < b.id; });
  return s;
}

std::shared_ptr<ConfigSnapshot> Manager::buildProxyless(const Watch& w) {
  auto s = std::make_shared<ConfigSnapshot>();
  s->kind = ProxyKind::kProxyless;
  s->proxy_id = w.proxy_id;
  s->datacenter = config_.datacenter;
  s->proxyless_services = w.proxyless_names;
  s->roots = roots_;
  std::string td = roots_ ? roots_->trust_domain : "consul";
  s->index = catalog_index_;
  for (const std::string& name : w.proxyless_names) {
    UpstreamSnapshot u;
    u.id = name;
    u.destination_name = name;
    u.datacenter = config_.datacenter;
    u.protocol = "grpc";
    u.cluster_name = name + ".default." + config_.datacenter + ".internal." + td;
    u.endpoints = endpointsFor(Target{name, config_.datacenter, false});
    s->upstreams.push_back(std::move(u));
  }
  return s;
}

bool Manager::sameSnapshot(const ConfigSnapshot& a, const ConfigSnapshot& b) {
  if (a.kind != b.kind || a.service != b.service || a.service_id != b.service_id ||
      a.public_bind_address != b.public_bind_address || a.public_port != b.public_port ||
      a.local_service_address != b.local_service_address ||
      a.local_service_port != b.local_service_port ||
      a.local_connect_timeout_ms != b.local_connect_timeout_ms || a.protocol != b.protocol ||
      a.roots != b.roots || a.leaf != b.leaf || a.intentions != b.intentions ||
      a.proxyless_services != b.proxyless_services || a.use_sds != b.use_sds ||
      a.upstreams.size() != b.upstreams.size()) {
    return false;
  }
  for (size_t i = 0; i < a.upstreams.size(); ++i) {
    const auto& x = a.upstreams[i];
    const auto& y = b.upstreams[i];
    if (x.id != y.id || x.bind_address != y.bind_address || x.bind_port != y.bind_port ||
        x.protocol != y.protocol || x.connect_timeout_ms != y.connect_timeout_ms ||
        x.cluster_name != y.cluster_name || x.endpoints != y.endpoints) {
      return false;
    }
  }
  return true;
}

}  // namespace trellis::proxycfg
