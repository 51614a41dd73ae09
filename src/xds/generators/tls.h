#pragma once
// Mesh TLS contexts for the sidecar's listeners and clusters, and the Secrets behind them in SDS
// mode. Inline mode embeds the leaf chain, key and roots in every context (Consul); SDS mode
// names `leaf:<service>` and `ca_roots`, so a leaf rotation changes only one Secret.

#include "envoy/config/core/v3/base.pb.h"
#include "proxycfg/snapshot.h"

namespace trellis::xds {

// The public listener's transport socket: requires and verifies a client certificate.
envoy::config::core::v3::TransportSocket downstreamTlsSocket(const proxycfg::ConfigSnapshot& snap);

// An upstream cluster's transport socket: presents the leaf, checks the server's SPIFFE URI SAN
// and sends the cluster name as SNI.
envoy::config::core::v3::TransportSocket upstreamTlsSocket(const proxycfg::ConfigSnapshot& snap,
                                                           const proxycfg::UpstreamSnapshot& up);

// Every root, each ending in a newline, active first.
std::string rootsPem(const proxycfg::CaRoots& roots);

}  // namespace trellis::xds
