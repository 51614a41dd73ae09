#include "dns/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/duration.h"

namespace trellis::dns {
namespace {

using nlohmann::json;

const json* child(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

Result<uint32_t> ttlSeconds(const json& v, const std::string& what) {
  if (!v.is_string()) return invalidArgument(what + " must be a duration");
  auto d = parseGoDuration(v.get<std::string>());
  if (!d || d->count() < 0) return invalidArgument(what + ": invalid duration");
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(*d).count());
}

bool isIp(const std::string& s, bool* v6) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return !(*v6 = false);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return (*v6 = true);
  return false;
}

// "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53".
Result<Recursor> parseRecursor(const std::string& text) {
  Recursor r;
  bool v6 = false;
  if (isIp(text, &v6)) {
    r.address = text;
    return r;
  }
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return invalidArgument("invalid recursor address " + text);
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return invalidArgument("invalid recursor address " + text);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (!isIp(host, &v6)) return invalidArgument("recursor must be an IP address: " + text);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p <= 0 || p > 65535) {
    return invalidArgument("invalid recursor port in " + text);
  }
  r.address = host;
  r.port = static_cast<uint16_t>(p);
  return r;
}

}  // namespace

Result<DnsConfig> dnsConfigFrom(const config::AgentConfig& cfg) {
  DnsConfig out;
  out.datacenter = cfg.datacenter;
  out.domain = nameFromString(lower(cfg.domain));
  if (out.domain.empty()) return invalidArgument("domain must not be empty");
  const json& m = cfg.merged;
  try {
    if (const json* v = child(m, "alt_domain"); v && v->is_string()) {
      out.alt_domain = nameFromString(lower(v->get<std::string>()));
    }
    if (const json* v = child(m, "recursors"); v && v->is_array()) {
      for (const auto& r : *v) {
        if (!r.is_string()) return invalidArgument("recursors must be strings");
        auto rec = parseRecursor(r.get<std::string>());
        if (!rec) return rec.status();
        out.recursors.push_back(*rec);
      }
    }
    const json* dc = child(m, "dns_config");
    if (!dc) return out;
    auto boolean = [&](const char* key, bool* dst) {
      if (const json* v = child(*dc, key); v && v->is_boolean()) *dst = v->get<bool>();
    };
    boolean("allow_stale", &out.allow_stale);
    boolean("only_passing", &out.only_passing);
    boolean("enable_truncate", &out.enable_truncate);
    boolean("enable_additional_node_meta_txt", &out.enable_additional_node_meta_txt);
    if (const json* v = child(*dc, "node_ttl")) {
      auto t = ttlSeconds(*v, "dns_config.node_ttl");
      if (!t) return t.status();
      out.node_ttl = *t;
    }
    if (const json* v = child(*dc, "service_ttl"); v && v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        auto t = ttlSeconds(it.value(), "dns_config.service_ttl." + it.key());
        if (!t) return t.status();
        out.service_ttl[it.key()] = *t;
      }
    }
    if (const json* v = child(*dc, "a_record_limit"); v && v->is_number_integer()) {
      if (v->get<int64_t>() < 0) return invalidArgument("dns_config.a_record_limit < 0");
      out.a_record_limit = v->get<size_t>();
    }
    if (const json* v = child(*dc, "udp_answer_limit"); v && v->is_number_integer()) {
      if (v->get<int64_t>() < 0) return invalidArgument("dns_config.udp_answer_limit < 0");
      out.udp_answer_limit = v->get<size_t>();
    }
    if (const json* soa = child(*dc, "soa")) {
      auto u32 = [&](const char* key, uint32_t* dst) {
        if (const json* v = child(*soa, key); v && v->is_number_integer()) {
          *dst = static_cast<uint32_t>(v->get<uint64_t>());
        }
      };
      u32("refresh", &out.soa.refresh);
      u32("retry", &out.soa.retry);
      u32("expire", &out.soa.expire);
      u32("min_ttl", &out.soa.min_ttl);
    }
    if (const json* v = child(*dc, "recursor_strategy"); v && v->is_string()) {
      std::string s = v->get<std::string>();
      if (s != "sequential" && s != "random") {
        return invalidArgument("dns_config.recursor_strategy must be sequential or random");
      }
      out.recursor_random = s == "random";
    }
    if (const json* v = child(*dc, "recursor_timeout"); v && v->is_string()) {
      auto d = parseGoDuration(v->get<std::string>());
      if (!d || d->count() <= 0) return invalidArgument("dns_config.recursor_timeout invalid");
      out.recursor_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
  } catch (const json::exception& e) {
    return invalidArgument(std::string("dns_config: ") + e.what());
  }
  return out;
}

uint32_t serviceTtl(const DnsConfig& cfg, const std::string& service) {
  if (cfg.service_ttl.empty()) return 0;
  if (auto it = cfg.service_ttl.find(service); it != cfg.service_ttl.end()) return it->second;
  size_t best_len = 0;
  const uint32_t* best = nullptr;
  for (const auto& [pattern, ttl] : cfg.service_ttl) {
    if (pattern.empty() || pattern.back() != '*') continue;
    std::string_view prefix(pattern.data(), pattern.size() - 1);
    if (service.compare(0, prefix.size(), prefix) == 0 && (!best || prefix.size() >= best_len)) {
      best_len = prefix.size();
      best = &ttl;
    }
  }
  return best ? *best : 0;
}

}  // namespace trellis::dns
