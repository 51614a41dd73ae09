#include "xds/generators/tls.h"

#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/generators/generators.h"
#include "xds/generators/proto_util.h"

namespace trellis::xds {

namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;

constexpr std::string_view kTlsSocketName = "tls";

void setSdsSecret(tls::SdsSecretConfig& cfg, std::string name) {
  cfg.set_name(std::move(name));
  setAdsSource(*cfg.mutable_sds_config());
}

void setLeaf(tls::CommonTlsContext& ctx, const proxycfg::ConfigSnapshot& snap) {
  ctx.mutable_tls_params();
  if (snap.use_sds) {
    setSdsSecret(*ctx.add_tls_certificate_sds_secret_configs(), leafSecretName(snap));
    return;
  }
  auto* cert = ctx.add_tls_certificates();
  cert->mutable_certificate_chain()->set_inline_string(snap.leaf->cert_pem);
  cert->mutable_private_key()->set_inline_string(snap.leaf->key_pem);
}

envoy::config::core::v3::TransportSocket wrap(const google::protobuf::Message& ctx) {
  envoy::config::core::v3::TransportSocket sock;
  sock.set_name(std::string(kTlsSocketName));
  packAny(*sock.mutable_typed_config(), ctx);
  return sock;
}

}  // namespace

std::string rootsPem(const proxycfg::CaRoots& roots) {
  std::string out;
  for (const auto& pem : roots.root_pems) {
    out += pem;
    if (!pem.empty() && pem.back() != '\n') out += '\n';
  }
  return out;
}

envoy::config::core::v3::TransportSocket downstreamTlsSocket(const proxycfg::ConfigSnapshot& snap) {
  tls::DownstreamTlsContext ctx;
  auto& common = *ctx.mutable_common_tls_context();
  setLeaf(common, snap);
  if (snap.use_sds) {
    setSdsSecret(*common.mutable_validation_context_sds_secret_config(),
                 std::string(kRootsSecretName));
  } else {
    common.mutable_validation_context()->mutable_trusted_ca()->set_inline_string(
        rootsPem(*snap.roots));
  }
  ctx.mutable_require_client_certificate()->set_value(true);
  return wrap(ctx);
}

envoy::config::core::v3::TransportSocket upstreamTlsSocket(const proxycfg::ConfigSnapshot& snap,
                                                           const proxycfg::UpstreamSnapshot& up) {
  tls::UpstreamTlsContext ctx;
  auto& common = *ctx.mutable_common_tls_context();
  setLeaf(common, snap);
  tls::CertificateValidationContext* validation;
  if (snap.use_sds) {
    auto* combined = common.mutable_combined_validation_context();
    setSdsSecret(*combined->mutable_validation_context_sds_secret_config(),
                 std::string(kRootsSecretName));
    validation = combined->mutable_default_validation_context();
  } else {
    validation = common.mutable_validation_context();
    validation->mutable_trusted_ca()->set_inline_string(rootsPem(*snap.roots));
  }
  auto* san = validation->add_match_typed_subject_alt_names();
  san->set_san_type(tls::SubjectAltNameMatcher::URI);
  san->mutable_matcher()->set_exact(up.spiffe_id);
  ctx.set_sni(up.cluster_name);
  return wrap(ctx);
}

TypeResources generateSecrets(const proxycfg::ConfigSnapshot& snap) {
  TypeResources out;
  if (!snap.use_sds || snap.kind != proxycfg::ProxyKind::kSidecar || !isComplete(snap)) return out;
  tls::Secret leaf;
  leaf.set_name(leafSecretName(snap));
  leaf.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_string(
      snap.leaf->cert_pem);
  leaf.mutable_tls_certificate()->mutable_private_key()->set_inline_string(snap.leaf->key_pem);
  out.emplace(leaf.name(), makeMessageResource(leaf.name(), leaf));

  tls::Secret roots;
  roots.set_name(std::string(kRootsSecretName));
  roots.mutable_validation_context()->mutable_trusted_ca()->set_inline_string(
      rootsPem(*snap.roots));
  out.emplace(roots.name(), makeMessageResource(roots.name(), roots));
  return out;
}

}  // namespace trellis::xds
