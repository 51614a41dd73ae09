#include "proxy/data/stats.h"

#include <gtest/gtest.h>

namespace trellis::proxy::data {
namespace {

TEST(Stats, RendersCountersPerListenerAndCluster) {
  StatsRegistry reg;
  auto l = reg.listener("public_listener:0.0.0.0:21000");
  l->connections_total += 3;
  l->connections_active += 1;
  l->rbac_denied += 2;
  l->tls_failures.inc(TlsFailure::kExpired);
  auto c = reg.cluster("db.default.dc1.internal.x.consul");
  c->connect_failures += 4;
  reg.setGeneration(7);
  const std::string out = reg.renderPrometheus();
  EXPECT_NE(out.find("trellis_proxy_config_generation 7\n"), std::string::npos);
  EXPECT_NE(out.find("trellis_proxy_listener_connections_total{listener=\"public_listener:0.0.0.0:"
                     "21000\"} 3\n"),
            std::string::npos);
  EXPECT_NE(
      out.find("trellis_proxy_rbac_denied_total{listener=\"public_listener:0.0.0.0:21000\"} 2"),
      std::string::npos);
  EXPECT_NE(
      out.find("trellis_proxy_listener_tls_handshake_failures_total{listener=\"public_listener:"
               "0.0.0.0:21000\",reason=\"expired\"} 1"),
      std::string::npos);
  EXPECT_NE(out.find("trellis_proxy_cluster_upstream_connect_failures_total{cluster=\"db.default."
                     "dc1.internal.x.consul\"} 4"),
            std::string::npos);
  EXPECT_NE(out.find("# TYPE trellis_proxy_listener_connections_active gauge"), std::string::npos);
}

TEST(Stats, SameNameSharesCountersAcrossConfigs) {
  StatsRegistry reg;
  reg.listener("a")->connections_total += 1;
  EXPECT_EQ(reg.listener("a")->connections_total.load(), 1u);
  EXPECT_EQ(reg.listener("b")->connections_total.load(), 0u);
}

TEST(Stats, EscapesLabelValues) {
  StatsRegistry reg;
  reg.listener("we\"ird\\name\n")->connections_total += 1;
  const std::string out = reg.renderPrometheus();
  EXPECT_NE(out.find("listener=\"we\\\"ird\\\\name\\n\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace trellis::proxy::data
