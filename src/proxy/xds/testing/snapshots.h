#pragma once
// Test-only glue between the control plane's generators and the proxy's ingestion: generator
// output with real certificates, wrapped in the delta responses an ADS server would send.

#include <string>
#include <string_view>

#include <envoy/service/discovery/v3/discovery.pb.h>

#include "proxy/xds/testing/test_pki.h"
#include "proxycfg/snapshot.h"
#include "xds/resources.h"

namespace trellis::proxy::xds::testing {

using DeltaResponse = envoy::service::discovery::v3::DeltaDiscoveryResponse;

// The snapshot with its placeholder roots and leaf replaced by `pki`'s.
proxycfg::ConfigSnapshot withCerts(proxycfg::ConfigSnapshot snap, const TestPki& pki);

// generate() of the snapshot.
trellis::xds::ResourceSetPtr generateSet(const proxycfg::ConfigSnapshot& snap);

// Every resource of `type` in `set` as one response.
DeltaResponse responseFor(const trellis::xds::ResourceSet& set, std::string_view type,
                          const std::string& system_version = "1");

// A response carrying one resource with the given body.
DeltaResponse oneResource(std::string_view type, const std::string& name, const std::string& body,
                          const std::string& version = "v1");

}  // namespace trellis::proxy::xds::testing
