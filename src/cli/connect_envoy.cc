// connect envoy: finds the proxy's registration on the local agent, builds Envoy's bootstrap
// (envoy_bootstrap.h) and prints it (-bootstrap) or execs Envoy with it. Messages follow
// Consul's command/connect/envoy.
#include "cli/connect_envoy.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr uint16_t kDefaultXdsPort = 8502;

bool sameIgnoringCaseAndUnderscores(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (true) {
    while (i < a.size() && a[i] == '_') ++i;
    while (j < b.size() && b[j] == '_') ++j;
    if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[j]))) {
      return false;
    }
    ++i;
    ++j;
  }
}

bool equalFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string stringField(const json& obj, std::string_view name) {
  const json* v = findField(obj, name);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

int intField(const json& obj, std::string_view name) {
  const json* v = findField(obj, name);
  return v != nullptr && v->is_number_integer() ? v->get<int>() : 0;
}

}  // namespace

const json* findField(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(name); it != obj.end()) return &*it;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (sameIgnoringCaseAndUnderscores(it.key(), name)) return &*it;
  }
  return nullptr;
}

Result<HostPort> splitHostPort(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return invalidArgument("address " + std::string(text) + ": missing ']' in address");
    }
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return invalidArgument("address " + std::string(text) + ": missing port in address");
    }
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return invalidArgument("address " + std::string(text) + ": missing port in address");
    }
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return invalidArgument("address " + std::string(text) + ": too many colons in address");
    }
    port = text.substr(colon + 1);
  }
  if (host.empty()) return invalidArgument("address " + std::string(text) + ": missing host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return invalidArgument("address " + std::string(text) + ": invalid port");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

Result<std::string> resolveIp(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0) {
    return invalidArgument("lookup " + host + ": " + ::gai_strerror(rc));
  }
  std::string v4, v6;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char buf[NI_MAXHOST];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST)) {
      continue;
    }
    if (a->ai_family == AF_INET && v4.empty()) v4 = buf;
    if (a->ai_family == AF_INET6 && v6.empty()) v6 = buf;
  }
  ::freeaddrinfo(res);
  if (!v4.empty()) return v4;
  if (!v6.empty()) return v6;
  return invalidArgument("lookup " + host + ": no address");
}

Result<HostPort> parseGrpcAddr(std::string_view text) {
  if (text.rfind("https://", 0) == 0) {
    return invalidArgument("TLS to the agent's gRPC port is not supported yet: " +
                           std::string(text));
  }
  if (text.rfind("unix://", 0) == 0) {
    return invalidArgument("unix socket gRPC addresses are not supported yet: " +
                           std::string(text));
  }
  if (text.rfind("http://", 0) == 0) text.remove_prefix(7);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return splitHostPort(text);
}

uint16_t xdsPortFromSelf(const json& self) {
  for (auto [section, key] : {std::pair{"xDS", "Port"}, std::pair{"DebugConfig", "GRPCPort"}}) {
    auto s = self.find(section);
    if (s == self.end() || !s->is_object()) continue;
    int port = intField(*s, key);
    if (port > 0 && port <= 65535) return static_cast<uint16_t>(port);
  }
  return kDefaultXdsPort;
}

Result<std::string> findSidecarProxyId(const json& services, std::string_view serviceId) {
  std::vector<std::string> ids;
  if (services.is_object()) {
    for (auto it = services.begin(); it != services.end(); ++it) {
      const json& svc = *it;
      if (stringField(svc, "Kind") != "connect-proxy") continue;
      const json* proxy = findField(svc, "Proxy");
      if (proxy == nullptr || !equalFold(stringField(*proxy, "DestinationServiceID"), serviceId)) {
        continue;
      }
      std::string id = stringField(svc, "ID");
      ids.push_back(id.empty() ? it.key() : id);
    }
  }
  if (ids.empty()) {
    return notFound("No sidecar proxy registered for " + std::string(serviceId));
  }
  if (ids.size() > 1) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return invalidArgument("More than one sidecar proxy registered for " +
                           std::string(serviceId) +
                           ".\n    Start proxy with -proxy-id and one of the following IDs: " +
                           list);
  }
  return ids.front();
}

}  // namespace trellis::cli
