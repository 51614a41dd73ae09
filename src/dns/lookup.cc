#include "dns/lookup.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace trellis::dns::internal {
namespace {

constexpr const char* kHex = "0123456789abcdef";

enum class AddrKind { kV4, kV6, kHost };

AddrKind parseAddress(const std::string& s, Ipv4* v4, Ipv6* v6) {
  if (inet_pton(AF_INET, s.c_str(), v4->data()) == 1) return AddrKind::kV4;
  if (inet_pton(AF_INET6, s.c_str(), v6->data()) == 1) return AddrKind::kV6;
  return AddrKind::kHost;
}

template <size_t N>
std::string toHex(const std::array<uint8_t, N>& bytes) {
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
bool fromHex(const std::string& hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    int hi = hexValue(hex[2 * i]), lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string join(const Name& labels, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += '.';
    out += labels[i];
  }
  return out;
}

bool startsWithUnderscore(const std::string& s) { return !s.empty() && s[0] == '_'; }

// The destination a connect-proxy instance fronts.
const std::string& proxyDestination(const pb::Service& svc) {
  return svc.proxy().destination_service_name();
}

bool isConnectNative(const pb::Service& svc) { return svc.connect_native(); }

}  // namespace

void Lookup::addSoa(std::vector<Record>& section) {
  SoaData soa;
  soa.mname = Name{"ns"};
  soa.mname.insert(soa.mname.end(), domain_.begin(), domain_.end());
  soa.rname = Name{"hostmaster"};
  soa.rname.insert(soa.rname.end(), domain_.begin(), domain_.end());
  soa.serial = ctx_.now_unix;
  soa.refresh = cfg_.soa.refresh;
  soa.retry = cfg_.soa.retry;
  soa.expire = cfg_.soa.expire;
  soa.minimum = cfg_.soa.min_ttl;
  section.push_back(Record{domain_, type::kSoa, kClassIn, cfg_.soa.min_ttl, std::move(soa)});
}

void Lookup::nxdomain() {
  resp_.header.rcode = rcode::kNxDomain;
  resp_.answers.clear();
  resp_.additional.clear();
  addSoa(resp_.authority);
}

void Lookup::inDomain(Name labels) {
  // The apex itself: SOA on request, otherwise an empty NOERROR.
  if (labels.empty()) {
    if (q_.type == type::kSoa || q_.type == type::kAny) {
      addSoa(resp_.answers);
    } else {
      addSoa(resp_.authority);
    }
    return;
  }
  std::string datacenter;
  for (int pass = 0; pass < 2; ++pass) {
    size_t n = labels.size();
    // For SRV the "service" label is optional in the RFC 2782 form.
    if (q_.type == type::kSrv && startsWithUnderscore(labels[n - 1])) {
      labels.push_back("service");
      ++n;
    }
    const std::string& kind = labels[n - 1];
    if (!datacenter.empty() && lower(datacenter) != lower(cfg_.datacenter)) return nxdomain();
    if (kind == "service" && n >= 2) {
      if (n == 3 && startsWithUnderscore(labels[0]) && startsWithUnderscore(labels[1])) {
        std::string tag = labels[1].substr(1);
        std::string name = labels[0].substr(1);
        return service(name, tag == "tcp" ? "" : tag, serviceTtl(cfg_, name));
      }
      std::string name = labels[n - 2];
      return service(name, join(labels, 0, n - 2), serviceTtl(cfg_, name));
    }
    if (kind == "connect" && n == 2) return connect(labels[0]);
    if (kind == "node" && n >= 2) return node(join(labels, 0, n - 1));
    if (kind == "addr" && n == 2) return addr(labels[0]);
    if (kind == "service" || kind == "connect" || kind == "node" || kind == "addr" ||
        kind == "query" || kind == "ingress" || kind == "virtual" || pass == 1 || n < 2) {
      return nxdomain();
    }
    datacenter = kind;
    labels.pop_back();
  }
  nxdomain();
}

std::vector<Lookup::Endpoint> Lookup::healthy(std::vector<const pb::Service*> services) const {
  std::vector<Endpoint> out;
  for (const pb::Service* svc : services) {
    const pb::Node* node = store_.node(svc->node());
    if (!node) continue;
    bool drop = false, warning = false;
    // Walks the node's checks in place (no vector per instance: this is the hot path).
    const auto& checks = store_.checks();
    for (auto it = checks.lower_bound({svc->node(), ""});
         it != checks.end() && it->first.first == svc->node(); ++it) {
      const pb::Check& c = it->second;
      if (!c.service_id().empty() && c.service_id() != svc->id()) continue;
      if (c.status() == "critical" || (cfg_.only_passing && c.status() != "passing")) {
        drop = true;
        break;
      }
      warning = warning || c.status() == "warning";
    }
    if (!drop) out.push_back({node, svc, warning});
  }
  if (ctx_.rng) std::shuffle(out.begin(), out.end(), *ctx_.rng);
  return out;
}

void Lookup::service(const std::string& name, const std::string& tag, uint32_t ttl) {
  auto services = store_.servicesByName(name);
  if (services.empty()) {  // names are case-insensitive in DNS
    for (const auto& [key, svc] : store_.services()) {
      if (svc.kind().empty() && lower(svc.service()) == name) services.push_back(&svc);
    }
  }
  if (!tag.empty()) {
    std::erase_if(services, [&](const pb::Service* s) {
      return std::none_of(s->tags().begin(), s->tags().end(),
                          [&](const std::string& t) { return lower(t) == tag; });
    });
  }
  answerEndpoints(healthy(std::move(services)), ttl);
}

void Lookup::connect(const std::string& name) {
  std::vector<const pb::Service*> services;
  for (const auto& [key, svc] : store_.services()) {
    if ((svc.kind() == "connect-proxy" && lower(proxyDestination(svc)) == name) ||
        (svc.kind().empty() && lower(svc.service()) == name && isConnectNative(svc))) {
      services.push_back(&svc);
    }
  }
  answerEndpoints(healthy(std::move(services)), serviceTtl(cfg_, name));
}

void Lookup::answerEndpoints(std::vector<Endpoint> eps, uint32_t ttl) {
  if (eps.empty()) return nxdomain();
  per_instance = true;
  // Consul answers each address (A) or address:port (SRV) once.
  std::vector<std::pair<std::string_view, int32_t>> seen_list;
  std::set<std::pair<std::string_view, int32_t>> seen_set;
  auto firstTime = [&](std::string_view addr, int32_t port) {
    if (eps.size() > 32) return seen_set.emplace(addr, port).second;
    for (const auto& s : seen_list) {
      if (s.first == addr && s.second == port) return false;
    }
    seen_list.emplace_back(addr, port);
    return true;
  };
  if (q_.type == type::kSrv) {
    for (const Endpoint& ep : eps) {
      const std::string& node_addr = ep.node->address();
      const std::string& svc_addr = ep.svc->address().empty() ? node_addr : ep.svc->address();
      if (!firstTime(svc_addr, ep.svc->port())) continue;
      SrvData srv;
      srv.priority = 1;
      int w = ep.warning ? ep.svc->weights().warning() : ep.svc->weights().passing();
      if (!ep.svc->has_weights()) w = 1;
      srv.weight = static_cast<uint16_t>(std::clamp(w, 0, 65535));
      srv.port = static_cast<uint16_t>(ep.svc->port());
      Ipv4 v4{};
      Ipv6 v6{};
      AddrKind kind = parseAddress(svc_addr, &v4, &v6);
      if (svc_addr == node_addr && kind != AddrKind::kHost) {
        srv.target = nodeName(ep.node->node());
        addressRecords(srv.target, node_addr, ttl, resp_.additional, true);
        if (cfg_.enable_additional_node_meta_txt) {
          nodeMetaTxt(srv.target, *ep.node, ttl, resp_.additional);
        }
      } else if (kind != AddrKind::kHost) {
        srv.target = addrName(kind == AddrKind::kV4 ? toHex(v4) : toHex(v6));
        addressRecords(srv.target, svc_addr, ttl, resp_.additional, true);
      } else {
        srv.target = nameFromString(svc_addr);
      }
      resp_.answers.push_back(Record{q_.name, type::kSrv, kClassIn, ttl, std::move(srv)});
    }
    return;
  }
  for (const Endpoint& ep : eps) {
    if (!ctx_.unlimited && cfg_.a_record_limit > 0 && resp_.answers.size() >= cfg_.a_record_limit) {
      break;
    }
    const std::string& addr = ep.svc->address().empty() ? ep.node->address() : ep.svc->address();
    if (!firstTime(addr, 0)) continue;
    addressRecords(q_.name, addr, ttl, resp_.answers, false);
  }
  if (resp_.answers.empty()) addSoa(resp_.authority);  // the name exists, not this type
}

void Lookup::node(const std::string& name) {
  const pb::Node* n = store_.node(name);
  if (!n) {
    for (const auto& [key, candidate] : store_.nodes()) {
      if (lower(key) == name) n = &candidate;
    }
  }
  if (!n) return nxdomain();
  uint32_t ttl = cfg_.node_ttl;
  if (q_.type != type::kTxt) addressRecords(q_.name, n->address(), ttl, resp_.answers, false);
  if (q_.type == type::kTxt || q_.type == type::kAny) {
    nodeMetaTxt(q_.name, *n, ttl, resp_.answers);
  } else if (cfg_.enable_additional_node_meta_txt && !resp_.answers.empty()) {
    nodeMetaTxt(q_.name, *n, ttl, resp_.additional);
  }
  if (resp_.answers.empty()) addSoa(resp_.authority);
}

void Lookup::addr(const std::string& hex) {
  Ipv4 v4{};
  Ipv6 v6{};
  if (fromHex(hex, &v4)) {
    if (q_.type == type::kA || q_.type == type::kAny) {
      resp_.answers.push_back(Record{q_.name, type::kA, kClassIn, 0, v4});
    }
  } else if (fromHex(hex, &v6)) {
    if (q_.type == type::kAaaa || q_.type == type::kAny) {
      resp_.answers.push_back(Record{q_.name, type::kAaaa, kClassIn, 0, v6});
    }
  } else {
    return nxdomain();
  }
  if (resp_.answers.empty()) addSoa(resp_.authority);
}

bool Lookup::reverse(const std::string& ip) {
  for (const auto& [name, n] : store_.nodes()) {
    if (n.address() == ip) {
      resp_.answers.push_back(
          Record{q_.name, type::kPtr, kClassIn, cfg_.node_ttl, NameData{nodeName(name)}});
      return true;
    }
  }
  for (const auto& [key, svc] : store_.services()) {
    if (svc.address() == ip) {
      Name target{svc.service(), "service"};
      target.insert(target.end(), domain_.begin(), domain_.end());
      resp_.answers.push_back(
          Record{q_.name, type::kPtr, kClassIn, serviceTtl(cfg_, svc.service()), NameData{target}});
      return true;
    }
  }
  return false;
}

void Lookup::addressRecords(const Name& owner, const std::string& address, uint32_t ttl,
                            std::vector<Record>& out, bool for_extra) {
  Ipv4 v4{};
  Ipv6 v6{};
  switch (parseAddress(address, &v4, &v6)) {
    case AddrKind::kV4:
      if (for_extra || q_.type == type::kA || q_.type == type::kAny) {
        out.push_back(Record{owner, type::kA, kClassIn, ttl, v4});
      }
      break;
    case AddrKind::kV6:
      if (for_extra || q_.type == type::kAaaa || q_.type == type::kAny) {
        out.push_back(Record{owner, type::kAaaa, kClassIn, ttl, v6});
      }
      break;
    case AddrKind::kHost:
      if (!for_extra && !address.empty()) {
        out.push_back(
            Record{owner, type::kCname, kClassIn, ttl, NameData{nameFromString(address)}});
      }
      break;
  }
}

void Lookup::nodeMetaTxt(const Name& owner, const pb::Node& node, uint32_t ttl,
                         std::vector<Record>& out) {
  if (node.meta().empty()) return;
  // Sorted for stable answers (the proto map has no order).
  std::vector<std::pair<const std::string*, const std::string*>> meta;
  for (const auto& [k, v] : node.meta()) meta.emplace_back(&k, &v);
  std::sort(meta.begin(), meta.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [k, v] : meta) {
    std::string text = k->rfind("rfc1035-", 0) == 0 ? *v : *k + "=" + *v;
    out.push_back(Record{owner, type::kTxt, kClassIn, ttl, TxtData{std::move(text)}});
  }
}

Name Lookup::nodeName(const std::string& node) const {
  Name n = nameFromString(node);
  n.push_back("node");
  n.push_back(cfg_.datacenter);
  n.insert(n.end(), domain_.begin(), domain_.end());
  return n;
}

Name Lookup::addrName(const std::string& hex) const {
  Name n{hex, "addr", cfg_.datacenter};
  n.insert(n.end(), domain_.begin(), domain_.end());
  return n;
}

}  // namespace trellis::dns::internal
