#pragma once
// Small helpers shared by the generator files.

#include <string>
#include <string_view>

#include "proxycfg/snapshot.h"

namespace trellis::xds {

inline bool isHttpProtocol(std::string_view p) {
  return p == "http" || p == "http2" || p == "grpc";
}
inline bool isHttp2Protocol(std::string_view p) { return p == "http2" || p == "grpc"; }

// Consul's upstream stat prefix: upstream.<svc>.<namespace>.<partition>.<dc>.
inline std::string upstreamStatPrefix(const proxycfg::UpstreamSnapshot& up) {
  return "upstream." + up.destination_name + ".default.default." + up.datacenter;
}

// The upstream a proxyless client's requested name refers to: by id, else by service name.
inline const proxycfg::UpstreamSnapshot* findProxylessUpstream(const proxycfg::ConfigSnapshot& snap,
                                                               std::string_view name) {
  for (const auto& up : snap.upstreams) {
    if (up.id == name) return &up;
  }
  for (const auto& up : snap.upstreams) {
    if (up.destination_name == name) return &up;
  }
  return nullptr;
}

}  // namespace trellis::xds
