// Translation corners the generators never produce.
#include "proxy/xds/translate.h"

#include <gtest/gtest.h>

#include "proxy/xds/testing/test_pki.h"

namespace trellis::proxy::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::rbac::v3::Principal;
namespace tls = envoy::extensions::transport_sockets::tls::v3;

const testing::TestPki& pki() {
  static const testing::TestPki p =
      testing::makeTestPki("spiffe://td.consul/ns/default/dc/dc1/svc/web");
  return p;
}

envoy::extensions::filters::network::rbac::v3::RBAC rbacWith(const Principal& principal) {
  envoy::extensions::filters::network::rbac::v3::RBAC rbac;
  auto& policy = (*rbac.mutable_rules()->mutable_policies())["p"];
  policy.add_permissions()->set_any(true);
  *policy.add_principals() = principal;
  return rbac;
}

TEST(TranslateRbacTest, MatcherFormsBecomeFullMatchPatterns) {
  Principal p;
  p.mutable_authenticated()->mutable_principal_name()->set_prefix("spiffe://a.b/");
  auto rbac = translateRbac(rbacWith(p));
  ASSERT_TRUE(rbac) << rbac.status().message();
  EXPECT_EQ(rbac->policies[0].principals[0].kind, proxy::Principal::Kind::kUriRegex);
  EXPECT_EQ(rbac->policies[0].principals[0].pattern, "spiffe\\:\\/\\/a\\.b\\/.*");

  p.mutable_authenticated()->mutable_principal_name()->set_exact("spiffe://a.b/x");
  rbac = translateRbac(rbacWith(p));
  ASSERT_TRUE(rbac);
  EXPECT_EQ(rbac->policies[0].principals[0].kind, proxy::Principal::Kind::kUriExact);

  Principal any;
  any.set_any(true);
  Principal outer;
  *outer.mutable_or_ids()->add_ids() = any;
  *outer.mutable_or_ids()->add_ids()->mutable_not_id() = p;
  rbac = translateRbac(rbacWith(outer));
  ASSERT_TRUE(rbac);
  const auto& got = rbac->policies[0].principals[0];
  EXPECT_EQ(got.kind, proxy::Principal::Kind::kOr);
  ASSERT_EQ(got.ids.size(), 2u);
  EXPECT_EQ(got.ids[0].kind, proxy::Principal::Kind::kAny);
  EXPECT_EQ(got.ids[1].kind, proxy::Principal::Kind::kNot);
}

TEST(TranslateRbacTest, RejectsWhatL4CannotEnforce) {
  Principal ip;
  ip.mutable_source_ip()->set_address_prefix("10.0.0.0");
  EXPECT_FALSE(translateRbac(rbacWith(ip)));

  Principal deep;
  deep.set_any(true);
  for (int i = 0; i < 40; ++i) {
    Principal wrap;
    *wrap.mutable_not_id() = deep;
    deep = wrap;
  }
  auto r = translateRbac(rbacWith(deep));
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("nest too deep"), std::string::npos);

  Principal any;
  any.set_any(true);
  auto rbac = rbacWith(any);
  (*rbac.mutable_rules()->mutable_policies())["p"].mutable_permissions(0)->set_destination_port(80);
  EXPECT_FALSE(translateRbac(rbac));
  rbac = rbacWith(any);
  rbac.mutable_rules()->set_action(envoy::config::rbac::v3::RBAC::LOG);
  EXPECT_FALSE(translateRbac(rbac));
}

Cluster tlsCluster() {
  Cluster c;
  c.set_name("up");
  c.set_type(Cluster::EDS);
  tls::UpstreamTlsContext ctx;
  ctx.set_sni("up.sni");
  auto* cert = ctx.mutable_common_tls_context()->add_tls_certificates();
  cert->mutable_certificate_chain()->set_inline_string(pki().leaf_chain_pem);
  cert->mutable_private_key()->set_inline_string(pki().leaf_key_pem);
  auto* vc = ctx.mutable_common_tls_context()->mutable_validation_context();
  vc->mutable_trusted_ca()->set_inline_string(pki().root_pem);
  vc->add_match_subject_alt_names()->set_exact("spiffe://td.consul/ns/default/dc/dc1/svc/up");
  c.mutable_transport_socket()->set_name("tls");
  c.mutable_transport_socket()->mutable_typed_config()->PackFrom(ctx);
  return c;
}

TEST(TranslateClusterTest, LegacySanMatchersAndLeastRequest) {
  Cluster c = tlsCluster();
  c.set_lb_policy(Cluster::LEAST_REQUEST);
  auto parsed = translateCluster(c);
  ASSERT_TRUE(parsed) << parsed.status().message();
  EXPECT_EQ(parsed->cluster.lb, proxy::Cluster::LbPolicy::kLeastRequest);
  EXPECT_EQ(parsed->cluster.sni, "up.sni");
  EXPECT_EQ(parsed->eds_name, "up");
  EXPECT_EQ(parsed->cluster.expected_sans,
            std::vector<std::string>{"spiffe://td.consul/ns/default/dc/dc1/svc/up"});
}

TEST(TranslateClusterTest, Rejections) {
  Cluster c = tlsCluster();
  c.set_type(Cluster::STRICT_DNS);
  EXPECT_EQ(translateCluster(c).status().message(),
            "cluster up: cluster type STRICT_DNS not supported");

  c = tlsCluster();
  c.set_lb_policy(Cluster::MAGLEV);
  EXPECT_FALSE(translateCluster(c));

  // A key that does not belong to the certificate.
  auto other = testing::makeTestPki("spiffe://td.consul/ns/default/dc/dc1/svc/other");
  c = tlsCluster();
  tls::UpstreamTlsContext ctx;
  c.transport_socket().typed_config().UnpackTo(&ctx);
  ctx.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_private_key()
      ->set_inline_string(other.leaf_key_pem);
  c.mutable_transport_socket()->mutable_typed_config()->PackFrom(ctx);
  EXPECT_EQ(translateCluster(c).status().message(),
            "cluster up: private key does not match the certificate");

  // File data sources need I/O that ingestion does not do.
  ctx.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_private_key()
      ->set_filename("/etc/key.pem");
  c.mutable_transport_socket()->mutable_typed_config()->PackFrom(ctx);
  EXPECT_NE(translateCluster(c).status().message().find("only inline data sources"),
            std::string::npos);

  // DNS SAN matchers cannot be honoured by the data plane.
  c = tlsCluster();
  c.transport_socket().typed_config().UnpackTo(&ctx);
  auto* m = ctx.mutable_common_tls_context()
                ->mutable_validation_context()
                ->add_match_typed_subject_alt_names();
  m->set_san_type(tls::SubjectAltNameMatcher::DNS);
  m->mutable_matcher()->set_exact("up.example");
  c.mutable_transport_socket()->mutable_typed_config()->PackFrom(ctx);
  EXPECT_FALSE(translateCluster(c));
}

// Unpacking checks the full type name after the URL's last '/' and the payload, without the
// descriptor pool.
TEST(TranslateClusterTest, TypedConfigUnpacking) {
  Cluster c = tlsCluster();
  auto* any = c.mutable_transport_socket()->mutable_typed_config();
  any->set_type_url("example.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext");
  ASSERT_TRUE(translateCluster(c)) << translateCluster(c).status().message();

  any->set_type_url("type.googleapis.com/other.UpstreamTlsContext");
  EXPECT_NE(translateCluster(c).status().message().find("cannot unpack"), std::string::npos);

  c = tlsCluster();
  c.mutable_transport_socket()->mutable_typed_config()->set_value("\x0a\xff");
  EXPECT_NE(translateCluster(c).status().message().find("cannot unpack"), std::string::npos);
}

TEST(TranslateAssignmentTest, HealthAndWeights) {
  using envoy::config::core::v3::HealthStatus;
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name("c");
  auto* locality = cla.add_endpoints();
  const HealthStatus statuses[] = {HealthStatus::UNKNOWN,   HealthStatus::HEALTHY,
                                   HealthStatus::UNHEALTHY, HealthStatus::DRAINING,
                                   HealthStatus::TIMEOUT,   HealthStatus::DEGRADED};
  for (int i = 0; i < 6; ++i) {
    auto* lb = locality->add_lb_endpoints();
    auto* sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa->set_address(i == 0 ? "::1" : "10.0.0." + std::to_string(i));
    sa->set_port_value(1000 + i);
    lb->set_health_status(statuses[i]);
    if (i == 1) lb->mutable_load_balancing_weight()->set_value(7);
  }
  auto parsed = translateAssignment(cla);
  ASSERT_TRUE(parsed) << parsed.status().message();
  std::vector<bool> healthy;
  for (const auto& ep : parsed->endpoints) healthy.push_back(ep.healthy);
  EXPECT_EQ(healthy, (std::vector<bool>{true, true, false, false, false, true}));
  EXPECT_EQ(parsed->endpoints[1].weight, 7u);
  EXPECT_EQ(parsed->endpoints[0].address, "::1");

  locality->mutable_lb_endpoints(2)->mutable_load_balancing_weight()->set_value(0);
  EXPECT_FALSE(translateAssignment(cla));
}

TEST(TranslateSecretTest, CertificateAndValidationContext) {
  tls::Secret s;
  s.set_name("leaf");
  s.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_string(pki().leaf_chain_pem);
  s.mutable_tls_certificate()->mutable_private_key()->set_inline_string(pki().leaf_key_pem);
  auto parsed = translateSecret(s);
  ASSERT_TRUE(parsed) << parsed.status().message();
  EXPECT_TRUE(parsed->has_certificate);
  EXPECT_EQ(parsed->private_key_pem, pki().leaf_key_pem);

  tls::Secret roots;
  roots.set_name("roots");
  roots.mutable_validation_context()->mutable_trusted_ca()->set_inline_string(
      "-----BEGIN "
      "CERTIFICATE-----\n"
      "AAAA\n-----END "
      "CERTIFICATE-----\n");
  EXPECT_FALSE(translateSecret(roots));
  roots.mutable_validation_context()->mutable_trusted_ca()->set_inline_string(pki().root_pem);
  parsed = translateSecret(roots);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->has_validation);

  tls::Secret generic;
  generic.set_name("g");
  generic.mutable_generic_secret();
  EXPECT_FALSE(translateSecret(generic));
}

}  // namespace
}  // namespace trellis::proxy::xds
