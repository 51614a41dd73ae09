// Consul's NodeService.Validate rules for Connect. The first violation wins: Consul lists them all
// in a multi-line multierror, but a 400 body of one line is what clients print and tests match.
#include <set>

#include "model/proxy.h"

namespace trellis::model {
namespace {

Status fail(std::string why) { return invalidArgument(std::move(why)); }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

Status validateUpstream(const pb::Upstream& u) {
  const std::string& t = u.destination_type();
  if (!t.empty() && t != kUpstreamService && t != kUpstreamPreparedQuery) {
    return fail("unknown upstream destination type: \"" + t + "\"");
  }
  if (u.destination_name().empty()) return fail("upstream destination name cannot be empty");
  if (u.destination_name() == "*" && !u.centrally_configured()) {
    return fail("upstream destination name cannot be a wildcard");
  }
  if (!u.destination_peer().empty() && !u.datacenter().empty()) {
    return fail("upstream cannot specify both destination peer and datacenter");
  }
  bool socket = !u.local_bind_socket_path().empty();
  if (u.local_bind_port() == 0 && !socket && !u.centrally_configured()) {
    return fail("upstream local bind port or local socket path must be defined and nonzero");
  }
  if (u.local_bind_port() != 0 && socket && !u.centrally_configured()) {
    return fail(
        "only one of upstream local bind port or local socket path can be defined and nonzero");
  }
  if (u.local_bind_port() < 0 || u.local_bind_port() > 65535) {
    return fail("upstream local bind port out of range: " + std::to_string(u.local_bind_port()));
  }
  return Status::ok();
}

Status validateProxyKind(const pb::Service& s, bool has_sidecar) {
  const auto& p = s.proxy();
  if (s.port() == 0 && s.socket_path().empty()) {
    return fail("Port or SocketPath must be set for a connect-proxy");
  }
  if (trim(p.destination_service_name()).empty()) {
    return fail("Proxy.DestinationServiceName must be non-empty for Connect proxy services");
  }
  if (p.destination_service_name() == "*") {
    return fail("Proxy.DestinationServiceName must not be a wildcard for Connect proxy services");
  }
  if (s.connect_native())
    return fail("A Proxy cannot also be Connect Native, only typical services");
  if (has_sidecar) return fail("A connect-proxy cannot have a sidecar service defined");
  std::set<std::string> keys, binds;
  for (const auto& u : p.upstreams()) {
    if (Status v = validateUpstream(u); !v) return v;
    std::string key = u.destination_type() + "\n" + u.destination_partition() + "\n" +
                      u.destination_namespace() + "\n" + u.destination_peer() + "\n" +
                      u.destination_name() + "\n" + u.datacenter();
    if (!keys.insert(key).second) {
      return fail("upstreams cannot contain duplicates of " + upstreamId(u));
    }
    std::string addr = upstreamBindAddress(u);
    if (!u.centrally_configured() && !binds.insert(addr).second) {
      return fail(
          "upstreams cannot contain duplicates by local bind address and port or unix path; \"" +
          addr + "\" is specified twice");
    }
  }
  std::set<int> listeners;
  for (const auto& path : p.expose().paths()) {
    if (path.path().empty()) return fail("expose.paths: empty path exposed");
    if (!listeners.insert(path.listener_port()).second) {
      return fail("expose.paths: duplicate listener ports exposed");
    }
    if (path.listener_port() <= 0 || path.listener_port() > 65535) {
      return fail("expose.paths: invalid listener port: " + std::to_string(path.listener_port()));
    }
    if (!path.protocol().empty() && path.protocol() != "http" && path.protocol() != "http2") {
      return fail("protocol '" + path.protocol() + "' not supported for path: " + path.path() +
                  ", must be in: [http http2]");
    }
  }
  return Status::ok();
}

Status validateGatewayKind(const pb::Service& s, bool has_sidecar) {
  const std::string& k = s.kind();
  const auto& p = s.proxy();
  if (s.port() == 0 && k != "ingress-gateway" && k != "api-gateway") {
    return fail("Port must be non-zero for a " + k);
  }
  if (has_sidecar) return fail("A " + k + " cannot have a sidecar service defined");
  auto invalid = [&](const char* field) {
    return fail(std::string("The Proxy.") + field + " configuration is invalid for a " + k);
  };
  if (!p.destination_service_name().empty()) return invalid("DestinationServiceName");
  if (!p.destination_service_id().empty()) return invalid("DestinationServiceID");
  if (!p.local_service_address().empty()) return invalid("LocalServiceAddress");
  if (p.local_service_port() != 0) return invalid("LocalServicePort");
  if (!p.local_service_socket_path().empty()) return invalid("LocalServiceSocketPath");
  if (p.upstreams_size() != 0) return invalid("Upstreams");
  return Status::ok();
}

}  // namespace

Status validateConnect(const pb::Service& s, bool has_sidecar) {
  if (s.kind() == kConnectProxyKind) {
    if (Status v = validateProxyKind(s, has_sidecar); !v) return v;
  } else if (isGatewayKind(s.kind())) {
    if (Status v = validateGatewayKind(s, has_sidecar); !v) return v;
  } else if (!proxyIsEmpty(s.proxy())) {
    // Consul would store and hide it; refusing it surfaces a definition that forgot its Kind.
    return fail("Proxy is only valid for connect-proxy and gateway services (Kind \"" + s.kind() +
                "\")");
  }
  if (s.connect_native() && s.port() == 0 && s.socket_path().empty()) {
    return fail("Port or SocketPath must be set for a Connect native service.");
  }
  return Status::ok();
}

}  // namespace trellis::model
