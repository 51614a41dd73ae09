#include "proxy/xds/testing/snapshots.h"

#include "xds/generators/generators.h"

namespace trellis::proxy::xds::testing {

proxycfg::ConfigSnapshot withCerts(proxycfg::ConfigSnapshot snap, const TestPki& pki) {
  auto roots = std::make_shared<proxycfg::CaRoots>(*snap.roots);
  roots->root_pems = {pki.root_pem};
  snap.roots = roots;
  auto leaf = std::make_shared<proxycfg::LeafCert>(*snap.leaf);
  leaf->cert_pem = pki.leaf_chain_pem;
  leaf->key_pem = pki.leaf_key_pem;
  snap.leaf = leaf;
  return snap;
}

trellis::xds::ResourceSetPtr generateSet(const proxycfg::ConfigSnapshot& snap) {
  return trellis::xds::generate(snap);
}

DeltaResponse responseFor(const trellis::xds::ResourceSet& set, std::string_view type,
                          const std::string& system_version) {
  DeltaResponse r;
  r.set_type_url(std::string(type));
  r.set_system_version_info(system_version);
  r.set_nonce("n-" + system_version);
  if (auto it = set.by_type.find(type); it != set.by_type.end()) {
    for (const auto& [name, res] : it->second) {
      auto* out = r.add_resources();
      out->set_name(name);
      out->set_version(res->version);
      out->mutable_resource()->set_type_url(std::string(type));
      out->mutable_resource()->set_value(res->body);
    }
  }
  return r;
}

DeltaResponse oneResource(std::string_view type, const std::string& name, const std::string& body,
                          const std::string& version) {
  DeltaResponse r;
  r.set_type_url(std::string(type));
  r.set_system_version_info(version);
  r.set_nonce("n-" + version);
  auto* out = r.add_resources();
  out->set_name(name);
  out->set_version(version);
  out->mutable_resource()->set_type_url(std::string(type));
  out->mutable_resource()->set_value(body);
  return r;
}

}  // namespace trellis::proxy::xds::testing
