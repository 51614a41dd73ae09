#include "ca/spiffe.h"

#include <array>
#include <cctype>
#include <vector>

#include "common/uuid.h"

namespace trellis::ca {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr std::string_view kConsulSuffix = ".consul";

bool isUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (isUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Result<std::string> decodeSegment(std::string_view raw) {
  if (raw.empty()) return invalidArgument("SPIFFE ID has an empty path segment");
  if (raw == "." || raw == "..") return invalidArgument("SPIFFE ID has a dot path segment");
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      int hi = i + 2 < raw.size() ? hexValue(raw[i + 1]) : -1;
      int lo = i + 2 < raw.size() ? hexValue(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) return invalidArgument("SPIFFE ID has a bad percent escape");
      char decoded = static_cast<char>(hi << 4 | lo);
      unsigned char u = static_cast<unsigned char>(decoded);
      if (decoded == '/' || u < 0x20 || u == 0x7f) {
        return invalidArgument("SPIFFE ID segment encodes '/' or a control character");
      }
      out.push_back(decoded);
      i += 2;
    } else if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return invalidArgument("SPIFFE ID has a control, space or non-ASCII character");
    } else {
      out.push_back(c);
    }
  }
  if (out.size() > kMaxSegmentLength) return invalidArgument("SPIFFE ID segment is too long");
  // "%2e" decodes to a dot segment, which would not survive formatting and re-parsing.
  if (out == "." || out == "..") return invalidArgument("SPIFFE ID has a dot path segment");
  return out;
}

Status validateTrustDomainSyntax(std::string_view td) {
  if (td.empty()) return invalidArgument("SPIFFE ID has no trust domain");
  if (td.size() > kMaxTrustDomainLength) return invalidArgument("SPIFFE trust domain is too long");
  for (char c : td) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      if (c == ':') return invalidArgument("SPIFFE ID must not have a port");
      if (c == '@') return invalidArgument("SPIFFE ID must not have user info");
      return invalidArgument("SPIFFE trust domain has an invalid character");
    }
  }
  return Status::ok();
}

// Matches a decoded path against `a/<x>/b/<y>`-style shapes; literal words must match exactly.
bool matchShape(const std::vector<std::string>& segs, std::size_t from,
                std::initializer_list<std::string_view> shape, std::vector<std::string*> outs) {
  if (segs.size() - from != shape.size()) return false;
  std::size_t out_index = 0;
  std::size_t i = from;
  for (std::string_view word : shape) {
    if (word == "*") {
      *outs[out_index++] = segs[i];
    } else if (segs[i] != word) {
      return false;
    }
    ++i;
  }
  return true;
}

}  // namespace

Result<SpiffeId> parseSpiffeId(std::string_view uri) {
  if (uri.size() > kMaxSpiffeUriLength) return invalidArgument("SPIFFE ID is too long");
  if (uri.size() < kScheme.size()) return invalidArgument("SPIFFE ID must start with spiffe://");
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(uri[i])) != kScheme[i]) {
      return invalidArgument("SPIFFE ID must start with spiffe://");
    }
  }
  std::string_view rest = uri.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalidArgument("SPIFFE ID must not have a query or fragment");
  }
  std::size_t slash = rest.find('/');
  std::string td(rest.substr(0, slash));
  for (char& c : td) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (Status s = validateTrustDomainSyntax(td); !s) return s;

  std::vector<std::string> segs;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash + 1);
    if (path.empty()) return invalidArgument("SPIFFE ID must not end with '/'");
    while (true) {
      std::size_t next = path.find('/');
      auto seg = decodeSegment(path.substr(0, next));
      if (!seg) return seg.status();
      segs.push_back(std::move(seg.value()));
      if (next == std::string_view::npos) break;
      path = path.substr(next + 1);
    }
  }
  if (segs.empty()) return SpiffeId{SigningId{td}};

  std::string partition{kDefaultPartition};
  std::size_t from = 0;
  if (segs.size() >= 2 && segs[0] == "ap") {
    partition = segs[1];
    from = 2;
  }
  ServiceId svc{td, partition, "", "", ""};
  if (matchShape(segs, from, {"ns", "*", "dc", "*", "svc", "*"},
                 {&svc.ns, &svc.datacenter, &svc.service})) {
    return SpiffeId{std::move(svc)};
  }
  AgentId agent{td, partition, "", ""};
  if (matchShape(segs, from, {"agent", "client", "dc", "*", "id", "*"},
                 {&agent.datacenter, &agent.agent})) {
    return SpiffeId{std::move(agent)};
  }
  MeshGatewayId gw{td, partition, ""};
  if (matchShape(segs, from, {"gateway", "mesh", "dc", "*"}, {&gw.datacenter})) {
    return SpiffeId{std::move(gw)};
  }
  ServerId server{td, ""};
  if (from == 0 && matchShape(segs, 0, {"agent", "server", "dc", "*"}, {&server.datacenter})) {
    return SpiffeId{std::move(server)};
  }
  return invalidArgument("SPIFFE ID path is not a known Connect identity");
}

std::string formatSpiffeId(const SpiffeId& id) {
  struct Formatter {
    std::string prefix(const std::string& td, const std::string& partition) const {
      std::string out = std::string(kScheme) + td;
      if (!partition.empty() && partition != kDefaultPartition) {
        out += "/ap/" + percentEncode(partition);
      }
      return out;
    }
    std::string operator()(const SigningId& s) const {
      return std::string(kScheme) + s.trust_domain;
    }
    std::string operator()(const ServiceId& s) const {
      return prefix(s.trust_domain, s.partition) + "/ns/" + percentEncode(s.ns) + "/dc/" +
             percentEncode(s.datacenter) + "/svc/" + percentEncode(s.service);
    }
    std::string operator()(const AgentId& s) const {
      return prefix(s.trust_domain, s.partition) + "/agent/client/dc/" +
             percentEncode(s.datacenter) + "/id/" + percentEncode(s.agent);
    }
    std::string operator()(const ServerId& s) const {
      return std::string(kScheme) + s.trust_domain + "/agent/server/dc/" +
             percentEncode(s.datacenter);
    }
    std::string operator()(const MeshGatewayId& s) const {
      return prefix(s.trust_domain, s.partition) + "/gateway/mesh/dc/" +
             percentEncode(s.datacenter);
    }
  };
  return std::visit(Formatter{}, id);
}

const std::string& trustDomainOf(const SpiffeId& id) {
  return std::visit([](const auto& v) -> const std::string& { return v.trust_domain; }, id);
}

Status validateClusterTrustDomain(std::string_view td) {
  if (td.size() <= kConsulSuffix.size() ||
      td.substr(td.size() - kConsulSuffix.size()) != kConsulSuffix) {
    return invalidArgument("trust domain must be <cluster-uuid>.consul");
  }
  std::string_view id = td.substr(0, td.size() - kConsulSuffix.size());
  if (!isUuid(id)) return invalidArgument("trust domain must be <cluster-uuid>.consul");
  for (char c : id) {
    if (c >= 'A' && c <= 'F') return invalidArgument("trust domain must be lowercase");
  }
  return Status::ok();
}

std::string trustDomainForCluster(std::string_view cluster_id) {
  return std::string(cluster_id) + std::string(kConsulSuffix);
}

std::string serviceSni(std::string_view service, std::string_view subset, std::string_view ns,
                       std::string_view datacenter, std::string_view trust_domain) {
  std::string out;
  if (!subset.empty()) out.append(subset).append(".");
  out.append(service).append(".");
  out.append(ns.empty() ? kDefaultNamespace : ns).append(".");
  out.append(datacenter).append(".internal.").append(trust_domain);
  return out;
}

}  // namespace trellis::ca
