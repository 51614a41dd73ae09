#pragma once
// One xDS resource -> its part of a ProxyConfig, validated. Pure functions used by Ingest: each
// either fully understands a resource or returns the one-line reason it cannot be applied, which
// becomes the NACK's error_detail. References to other resources (SDS secrets, EDS assignments,
// clusters) are kept as names here and resolved by Ingest when it assembles a ProxyConfig.

#include <string>
#include <vector>

#include <envoy/config/cluster/v3/cluster.pb.h>
#include <envoy/config/core/v3/address.pb.h>
#include <envoy/config/endpoint/v3/endpoint.pb.h>
#include <envoy/config/listener/v3/listener.pb.h>
#include <envoy/extensions/filters/network/rbac/v3/rbac.pb.h>
#include <envoy/extensions/transport_sockets/tls/v3/secret.pb.h>
#include <envoy/extensions/transport_sockets/tls/v3/tls.pb.h>

#include "common/status.h"
#include "proxy/config.h"

namespace trellis::proxy::xds {

// A TLS context before SDS resolution: inline material, plus the Secret names to fill in.
struct TlsRefs {
  TlsMaterial material;
  std::string cert_secret;  // tls_certificate_sds_secret_configs[0].name
  std::string ca_secret;    // validation_context_sds_secret_config.name
  std::vector<std::string> expected_sans;
};

struct ParsedListener {
  Listener listener;
  TlsRefs tls;
};

struct ParsedCluster {
  Cluster cluster;
  TlsRefs tls;
  std::string eds_name;  // the ClusterLoadAssignment to wait for (EDS clusters only)
};

struct ParsedAssignment {
  std::string cluster_name;
  std::vector<Endpoint> endpoints;
};

struct ParsedSecret {
  std::string name;
  bool has_certificate = false;
  std::string cert_chain_pem;
  std::string private_key_pem;
  bool has_validation = false;
  std::string trusted_ca_pem;
};

Result<ParsedListener> translateListener(const envoy::config::listener::v3::Listener& proto);
Result<ParsedCluster> translateCluster(const envoy::config::cluster::v3::Cluster& proto);
Result<ParsedAssignment> translateAssignment(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& proto);
Result<ParsedSecret> translateSecret(
    const envoy::extensions::transport_sockets::tls::v3::Secret& proto);

// Pieces shared by the translators above (translate_tls.cc, translate_rbac.cc).
struct SocketAddress {
  std::string address;
  uint16_t port = 0;
};
Result<SocketAddress> translateAddress(const envoy::config::core::v3::Address& proto);

// A CommonTlsContext; `upstream` allows a context without a certificate and collects SANs.
Result<TlsRefs> translateCommonTls(
    const envoy::extensions::transport_sockets::tls::v3::CommonTlsContext& proto, bool upstream);

// The network RBAC filter's rules. has_rules=false in the proto means "no enforcement", which
// the caller maps to Listener::has_rbac=false.
Result<Rbac> translateRbac(const envoy::extensions::filters::network::rbac::v3::RBAC& proto);

}  // namespace trellis::proxy::xds
