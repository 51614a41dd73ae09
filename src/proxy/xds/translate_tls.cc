// Addresses and TLS contexts: the parts of listeners, clusters and secrets that say where and
// with which certificates.
#include <arpa/inet.h>

#include "proxy/xds/pem.h"
#include "proxy/xds/translate.h"

namespace trellis::proxy::xds {

namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;
using envoy::config::core::v3::DataSource;

// Only inline data: ingestion does no I/O, and a file the agent names is not ours to read.
Result<std::string> inlineData(const DataSource& source, std::string_view what) {
  switch (source.specifier_case()) {
    case DataSource::kInlineString:
      return source.inline_string();
    case DataSource::kInlineBytes:
      return source.inline_bytes();
    case DataSource::SPECIFIER_NOT_SET:
      return invalidArgument(std::string(what) + " is empty");
    default:
      return invalidArgument(std::string(what) + ": only inline data sources are supported");
  }
}

Status checkSdsSource(const envoy::config::core::v3::ConfigSource& source,
                      const std::string& name) {
  using envoy::config::core::v3::ConfigSource;
  const auto which = source.config_source_specifier_case();
  if (which == ConfigSource::kAds || which == ConfigSource::CONFIG_SOURCE_SPECIFIER_NOT_SET) {
    return Status::ok();
  }
  return invalidArgument("secret '" + name + "' must come over ADS");
}

Status addSanMatchers(const tls::CertificateValidationContext& ctx, std::vector<std::string>& out) {
  for (const auto& m : ctx.match_typed_subject_alt_names()) {
    if (m.san_type() != tls::SubjectAltNameMatcher::URI) {
      return invalidArgument("only URI subject alt name matchers are supported");
    }
    if (!m.matcher().has_exact() || m.matcher().ignore_case()) {
      return invalidArgument("only exact subject alt name matchers are supported");
    }
    out.push_back(m.matcher().exact());
  }
  // Deprecated in Envoy's API, still sent by older control planes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const auto& legacy = ctx.match_subject_alt_names();
#pragma GCC diagnostic pop
  for (const auto& m : legacy) {
    if (!m.has_exact() || m.ignore_case()) {
      return invalidArgument("only exact subject alt name matchers are supported");
    }
    out.push_back(m.exact());
  }
  return Status::ok();
}

Status addValidationContext(const tls::CertificateValidationContext& ctx, bool upstream,
                            TlsRefs& out) {
  if (ctx.has_trusted_ca()) {
    auto ca = inlineData(ctx.trusted_ca(), "trusted_ca");
    if (!ca) return ca.status();
    if (auto s = checkCertificates(*ca, "trusted_ca"); !s) return s;
    out.material.trusted_ca_pem = std::move(*ca);
  }
  if (!upstream) return Status::ok();
  return addSanMatchers(ctx, out.expected_sans);
}

}  // namespace

Result<SocketAddress> translateAddress(const envoy::config::core::v3::Address& proto) {
  if (!proto.has_socket_address()) return invalidArgument("only socket addresses are supported");
  const auto& sa = proto.socket_address();
  if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
    return invalidArgument("only TCP addresses are supported");
  }
  if (!sa.has_port_value()) return invalidArgument("address " + sa.address() + " has no port");
  if (sa.port_value() == 0 || sa.port_value() > 65535) {
    return invalidArgument("bad port " + std::to_string(sa.port_value()));
  }
  unsigned char buf[16];
  if (sa.address().size() > 64 || (inet_pton(AF_INET, sa.address().c_str(), buf) != 1 &&
                                   inet_pton(AF_INET6, sa.address().c_str(), buf) != 1)) {
    return invalidArgument("bad address '" + sa.address().substr(0, 64) + "': not an IP");
  }
  return SocketAddress{sa.address(), static_cast<uint16_t>(sa.port_value())};
}

Result<TlsRefs> translateCommonTls(const tls::CommonTlsContext& proto, bool upstream) {
  TlsRefs out;
  if (proto.tls_certificates_size() + proto.tls_certificate_sds_secret_configs_size() > 1) {
    return invalidArgument("more than one TLS certificate is not supported");
  }
  if (proto.tls_certificates_size() == 1) {
    const auto& cert = proto.tls_certificates(0);
    auto chain = inlineData(cert.certificate_chain(), "certificate_chain");
    if (!chain) return chain.status();
    auto key = inlineData(cert.private_key(), "private_key");
    if (!key) return key.status();
    if (auto s = checkCertificates(*chain, "certificate_chain"); !s) return s;
    if (auto s = checkPrivateKey(*key, *chain); !s) return s;
    out.material.cert_chain_pem = std::move(*chain);
    out.material.private_key_pem = std::move(*key);
  } else if (proto.tls_certificate_sds_secret_configs_size() == 1) {
    const auto& sds = proto.tls_certificate_sds_secret_configs(0);
    if (sds.name().empty()) return invalidArgument("SDS certificate without a name");
    if (auto s = checkSdsSource(sds.sds_config(), sds.name()); !s) return s;
    out.cert_secret = sds.name();
  } else if (!upstream) {
    return invalidArgument("downstream TLS context without a certificate");
  }

  using Common = tls::CommonTlsContext;
  switch (proto.validation_context_type_case()) {
    case Common::kValidationContext:
      if (auto s = addValidationContext(proto.validation_context(), upstream, out); !s) return s;
      break;
    case Common::kValidationContextSdsSecretConfig: {
      const auto& sds = proto.validation_context_sds_secret_config();
      if (sds.name().empty()) return invalidArgument("SDS validation context without a name");
      if (auto s = checkSdsSource(sds.sds_config(), sds.name()); !s) return s;
      out.ca_secret = sds.name();
      break;
    }
    case Common::kCombinedValidationContext: {
      const auto& combined = proto.combined_validation_context();
      const auto& sds = combined.validation_context_sds_secret_config();
      if (sds.name().empty()) return invalidArgument("SDS validation context without a name");
      if (auto s = checkSdsSource(sds.sds_config(), sds.name()); !s) return s;
      out.ca_secret = sds.name();
      auto s = addValidationContext(combined.default_validation_context(), upstream, out);
      if (!s) return s;
      break;
    }
    case Common::VALIDATION_CONTEXT_TYPE_NOT_SET:
      break;
    default:
      return invalidArgument("unsupported validation context type");
  }
  return out;
}

}  // namespace trellis::proxy::xds
