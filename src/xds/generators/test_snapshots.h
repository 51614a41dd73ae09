#pragma once
// Snapshots shared by the generator tests and the benchmark. Certificates are placeholders: the
// generators copy PEM text, they never parse it.

#include <cstdint>
#include <memory>
#include <string>

#include "proxycfg/snapshot.h"

namespace trellis::xds::testing {

inline constexpr const char* kTrustDomain = "11111111-2222-3333-4444-555555555555.consul";

std::shared_ptr<const proxycfg::EndpointSet> endpointSet(const std::string& service,
                                                         const std::string& dc, int count,
                                                         uint32_t base_port = 21000);
proxycfg::UpstreamSnapshot upstream(const std::string& id, const std::string& service,
                                    const std::string& dc, uint32_t bind_port,
                                    std::shared_ptr<const proxycfg::EndpointSet> endpoints);
intentions::Intention intention(const std::string& src, const std::string& dst,
                                const std::string& action);

// web's sidecar, tcp, default allow with one deny; upstreams db (dc1, mixed health and weights)
// and cache?dc=dc2.
proxycfg::ConfigSnapshot tcpSidecar();
// The same proxy under default deny: allow/deny intentions, wildcards and an L7 intention.
proxycfg::ConfigSnapshot defaultDenySidecar();
// api's sidecar speaking http: HTTP RBAC with L7 permissions, an http and a grpc upstream.
proxycfg::ConfigSnapshot httpSidecar();
// tcpSidecar with use_sds and the given leaf serial.
proxycfg::ConfigSnapshot sdsSidecar(const std::string& leaf_serial = "01");
// A gRPC client resolving xds:///db and xds:///cache.
proxycfg::ConfigSnapshot proxyless();
// The benchmark's shape: `upstreams` upstreams of `endpoints` endpoints each.
proxycfg::ConfigSnapshot wideSidecar(int upstreams, int endpoints);

}  // namespace trellis::xds::testing
