#include "xds/generators/rbac.h"

#include <gtest/gtest.h>

#include "xds/generators/test_snapshots.h"

namespace trellis::xds {
namespace {

using envoy::config::rbac::v3::Permission;
using envoy::config::rbac::v3::Principal;
using envoy::config::rbac::v3::RBAC;
using testing::intention;

constexpr std::string_view kTd = "td.consul";

// Compact rendering: `web` for an exact default-namespace source, `*` for a wildcard name,
// `*/*` for any namespace, and(...), not(...).
std::string show(const Principal& p) {
  if (p.has_and_ids()) {
    std::string out = "and(";
    for (int i = 0; i < p.and_ids().ids_size(); ++i) {
      out += (i ? "," : "") + show(p.and_ids().ids(i));
    }
    return out + ")";
  }
  if (p.has_not_id()) return "not(" + show(p.not_id()) + ")";
  const std::string& re = p.authenticated().principal_name().safe_regex().regex();
  if (re == spiffePattern(kTd, "", "*", "*")) return "*/*";
  const std::string prefix = "^spiffe://td.consul/ns/default/dc/[^/]+/svc/";
  if (re.rfind(prefix, 0) != 0) return "?" + re;
  std::string svc = re.substr(prefix.size(), re.size() - prefix.size() - 1);
  return svc == "[^/]+" ? "*" : svc;
}

std::vector<std::string> l4Principals(const RBAC& rbac) {
  std::vector<std::string> out;
  auto it = rbac.policies().find(std::string(kRbacL4PolicyName));
  if (it == rbac.policies().end()) return out;
  EXPECT_EQ(it->second.permissions_size(), 1);
  EXPECT_TRUE(it->second.permissions(0).any());
  for (const auto& p : it->second.principals()) out.push_back(show(p));
  return out;
}

proxycfg::Intentions ixns(bool default_allow, std::vector<intentions::Intention> list) {
  proxycfg::Intentions out;
  out.default_allow = default_allow;
  out.sorted = std::move(list);
  return out;
}

intentions::Intention nsIntention(const std::string& ns, const std::string& src,
                                  const std::string& action) {
  auto ixn = intention(src, "web", action);
  ixn.source_ns = ns;
  ixn.precedence = intentions::computePrecedence(ns, src, "default", "web");
  return ixn;
}

TEST(RbacTest, SpiffePatternWildcardsAndPartition) {
  EXPECT_EQ(spiffePattern(kTd, "", "default", "web"),
            "^spiffe://td.consul/ns/default/dc/[^/]+/svc/web$");
  EXPECT_EQ(spiffePattern(kTd, "default", "*", "*"),
            "^spiffe://td.consul/ns/[^/]+/dc/[^/]+/svc/[^/]+$");
  EXPECT_EQ(spiffePattern(kTd, "team", "default", "*"),
            "^spiffe://td.consul/ap/team/ns/default/dc/[^/]+/svc/[^/]+$");
}

TEST(RbacTest, NoIntentionsDefaultAllowIsEmptyDenyList) {
  RBAC rbac = makeRbacRules(ixns(true, {}), kTd, false);
  EXPECT_EQ(rbac.action(), RBAC::DENY);
  EXPECT_TRUE(rbac.policies().empty());
}

TEST(RbacTest, NoIntentionsDefaultDenyIsEmptyAllowList) {
  RBAC rbac = makeRbacRules(ixns(false, {}), kTd, false);
  EXPECT_EQ(rbac.action(), RBAC::ALLOW);
  EXPECT_TRUE(rbac.policies().empty());
}

TEST(RbacTest, DefaultAllowKeepsOnlyDenies) {
  RBAC rbac = makeRbacRules(
      ixns(true, {intention("web", "web", "allow"), intention("evil", "web", "deny")}), kTd, false);
  EXPECT_EQ(rbac.action(), RBAC::DENY);
  EXPECT_EQ(l4Principals(rbac), std::vector<std::string>{"evil"});
}

TEST(RbacTest, HigherPrecedenceAllowCarvedOutOfWildcardDeny) {
  // default allow: deny * (8) but allow web (9) => deny-list [* AND NOT web].
  RBAC rbac = makeRbacRules(
      ixns(true, {intention("*", "web", "deny"), intention("web", "web", "allow")}), kTd, false);
  EXPECT_EQ(l4Principals(rbac), std::vector<std::string>{"and(*,not(web))"});
}

TEST(RbacTest, DefaultDenyAllowListWithWildcards) {
  // Consul's own example: intern/trusted allow, intern/* deny, */* allow, default deny.
  auto ixn = ixns(false, {nsIntention("*", "*", "allow"), nsIntention("intern", "*", "deny"),
                          nsIntention("intern", "trusted", "allow")});
  RBAC rbac = makeRbacRules(ixn, kTd, false);
  EXPECT_EQ(rbac.action(), RBAC::ALLOW);
  auto principals = l4Principals(rbac);
  ASSERT_EQ(principals.size(), 2u);
  EXPECT_EQ(principals[0], "?^spiffe://td.consul/ns/intern/dc/[^/]+/svc/trusted$");
  // */* AND NOT intern/*: the NOT of intern/trusted is covered by intern/* and dropped.
  EXPECT_EQ(principals[1], "and(*/*,not(?^spiffe://td.consul/ns/intern/dc/[^/]+/svc/[^/]+$))");
}

TEST(RbacTest, LowerPrecedenceSameSourceDropped) {
  // admin => web allow (9) decides for admin; admin => * deny (6) must not NOT it or deny it.
  auto web = intention("admin", "web", "allow");
  auto any = intention("admin", "*", "deny");
  RBAC rbac = makeRbacRules(ixns(true, {any, web}), kTd, false);
  EXPECT_TRUE(rbac.policies().empty());
}

TEST(RbacTest, InputOrderDoesNotMatter) {
  auto a = ixns(false, {intention("*", "web", "allow"), intention("bad", "web", "deny")});
  auto b = ixns(false, {intention("bad", "web", "deny"), intention("*", "web", "allow")});
  EXPECT_EQ(makeRbacRules(a, kTd, false).SerializeAsString(),
            makeRbacRules(b, kTd, false).SerializeAsString());
  EXPECT_EQ(l4Principals(makeRbacRules(a, kTd, false)),
            std::vector<std::string>{"and(*,not(bad))"});
}

intentions::Intention l7(const std::string& src) {
  auto ixn = intention(src, "web", "");
  model::IntentionHttpMatch admin{"", "/admin", "", {}, {}};
  model::IntentionHttpMatch reads{"/exact", "", "", {}, {"GET", "HEAD"}};
  ixn.permissions.push_back({"deny", admin, {}});
  ixn.permissions.push_back({"allow", reads, {}});
  return ixn;
}

TEST(RbacTest, L7IntentionOnTcpListenerIsADeny) {
  auto list = ixns(false, {l7("web"), intention("*", "web", "allow")});
  RBAC rbac = makeRbacRules(list, kTd, false);
  EXPECT_EQ(rbac.action(), RBAC::ALLOW);
  EXPECT_EQ(l4Principals(rbac), std::vector<std::string>{"and(*,not(web))"});
  EXPECT_EQ(rbac.policies().size(), 1u);
}

TEST(RbacTest, L7IntentionOnHttpListenerFoldsPermissions) {
  auto list = ixns(false, {l7("web"), intention("*", "web", "allow")});
  RBAC rbac = makeRbacRules(list, kTd, true);
  ASSERT_EQ(rbac.policies().size(), 2u);
  const auto& policy = rbac.policies().at("consul-intentions-layer7-0");
  ASSERT_EQ(policy.principals_size(), 1);
  EXPECT_EQ(show(policy.principals(0)), "web");
  // The deny /admin permission is the default action and dropped; the allow carries NOT /admin.
  ASSERT_EQ(policy.permissions_size(), 1);
  const Permission& p = policy.permissions(0);
  ASSERT_TRUE(p.has_and_rules());
  ASSERT_EQ(p.and_rules().rules_size(), 2);
  const Permission& allow = p.and_rules().rules(0);
  ASSERT_EQ(allow.and_rules().rules_size(), 2);
  EXPECT_EQ(allow.and_rules().rules(0).url_path().path().exact(), "/exact");
  EXPECT_EQ(allow.and_rules().rules(1).header().name(), ":method");
  EXPECT_EQ(allow.and_rules().rules(1).header().string_match().safe_regex().regex(), "GET|HEAD");
  EXPECT_EQ(p.and_rules().rules(1).not_rule().url_path().path().prefix(), "/admin");
  EXPECT_EQ(l4Principals(rbac), std::vector<std::string>{"and(*,not(web))"});
}

TEST(RbacTest, L7IntentionWhosePermissionsAllMatchDefaultVanishes) {
  auto ixn = intention("web", "web", "");
  ixn.permissions.push_back({"deny", model::IntentionHttpMatch{"", "/x", "", {}, {}}, {}});
  RBAC rbac = makeRbacRules(ixns(false, {ixn}), kTd, true);
  EXPECT_TRUE(rbac.policies().empty());
}

TEST(RbacTest, PeerSourcesSkipped) {
  auto peer = intention("web", "web", "deny");
  peer.source_peer = "other";
  RBAC rbac = makeRbacRules(ixns(true, {peer}), kTd, false);
  EXPECT_TRUE(rbac.policies().empty());
}

}  // namespace
}  // namespace trellis::xds
