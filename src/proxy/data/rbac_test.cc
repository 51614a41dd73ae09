#include "proxy/data/rbac.h"

#include <gtest/gtest.h>

namespace trellis::proxy::data {
namespace {

constexpr char kTd[] = "11111111-2222-3333-4444-555555555555.consul";

std::string uri(const std::string& svc) {
  return std::string("spiffe://") + kTd + "/ns/default/dc/dc1/svc/" + svc;
}

// The shape Consul generates for one source service.
Principal svcRegex(const std::string& svc) {
  return {Principal::Kind::kUriRegex, "^spiffe://[^/]+/ns/default/dc/[^/]+/svc/" + svc + "$", {}};
}
Principal notOf(Principal p) { return {Principal::Kind::kNot, "", {std::move(p)}}; }
Principal andOf(std::vector<Principal> ps) { return {Principal::Kind::kAnd, "", std::move(ps)}; }

CompiledRbacPtr mustCompile(const Rbac& r) {
  auto c = CompiledRbac::compile(r);
  EXPECT_TRUE(c.isOk()) << c.status().message();
  return c.isOk() ? c.value() : nullptr;
}

TEST(Rbac, DefaultAllowDeniesListedSourcesOnly) {
  Rbac r{Rbac::Action::kDeny, {{"consul-intentions-layer4", {svcRegex("web")}}}, "rbac"};
  auto c = mustCompile(r);
  auto d = c->evaluate(uri("web"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.policy, "consul-intentions-layer4");
  EXPECT_TRUE(c->evaluate(uri("api")).allowed);
  EXPECT_TRUE(c->evaluate(uri("web2")).allowed);  // anchored: no prefix match
}

TEST(Rbac, DenyWildcardWithHigherPrecedenceAllowIsNotFolded) {
  // "* => db deny" plus "web => db allow": Consul folds the allow into the deny as and(*, not web).
  Principal any_svc{
      Principal::Kind::kUriRegex, "^spiffe://[^/]+/ns/default/dc/[^/]+/svc/[^/]+$", {}};
  Rbac r{Rbac::Action::kDeny,
         {{"consul-intentions-layer4", {andOf({any_svc, notOf(svcRegex("web"))})}}},
         ""};
  auto c = mustCompile(r);
  EXPECT_TRUE(c->evaluate(uri("web")).allowed);
  EXPECT_FALSE(c->evaluate(uri("api")).allowed);
  EXPECT_FALSE(c->evaluate(uri("billing")).allowed);
}

TEST(Rbac, DefaultDenyAllowsListedSourcesOnly) {
  Rbac r{
      Rbac::Action::kAllow, {{"consul-intentions-layer4", {svcRegex("web"), svcRegex("api")}}}, ""};
  auto c = mustCompile(r);
  EXPECT_TRUE(c->evaluate(uri("web")).allowed);
  EXPECT_TRUE(c->evaluate(uri("api")).allowed);
  auto d = c->evaluate(uri("billing"));
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.policy.empty());
  EXPECT_FALSE(c->evaluate("").allowed);  // no identity at all
}

TEST(Rbac, EmptyAllowListDeniesEverything) {
  auto c = mustCompile(Rbac{Rbac::Action::kAllow, {}, ""});
  EXPECT_FALSE(c->evaluate(uri("web")).allowed);
  EXPECT_FALSE(c->evaluate("").allowed);
}

TEST(Rbac, EmptyDenyListAllowsEverything) {
  auto c = mustCompile(Rbac{Rbac::Action::kDeny, {}, ""});
  EXPECT_TRUE(c->evaluate(uri("web")).allowed);
}

TEST(Rbac, ExactOrAndAnyPrincipals) {
  Principal exact{Principal::Kind::kUriExact, uri("web"), {}};
  Principal either{Principal::Kind::kOr, "", {exact, svcRegex("api")}};
  auto c = mustCompile(Rbac{Rbac::Action::kAllow, {{"p", {either}}}, ""});
  EXPECT_TRUE(c->evaluate(uri("web")).allowed);
  EXPECT_TRUE(c->evaluate(uri("api")).allowed);
  EXPECT_FALSE(c->evaluate(uri("web") + "x").allowed);
  auto any = mustCompile(Rbac{Rbac::Action::kAllow, {{"all", {Principal{}}}}, ""});
  EXPECT_TRUE(any->evaluate("").allowed);
  EXPECT_EQ(any->evaluate("").policy, "all");
}

TEST(Rbac, FirstMatchingPolicyDecides) {
  auto c = mustCompile(
      Rbac{Rbac::Action::kDeny, {{"first", {svcRegex("web")}}, {"second", {Principal{}}}}, ""});
  EXPECT_EQ(c->evaluate(uri("web")).policy, "first");
  EXPECT_EQ(c->evaluate(uri("api")).policy, "second");
}

TEST(Rbac, RejectsBadRegexAndMalformedTrees) {
  Principal bad{Principal::Kind::kUriRegex, "^spiffe://(unclosed$", {}};
  EXPECT_FALSE(CompiledRbac::compile(Rbac{Rbac::Action::kAllow, {{"p", {bad}}}, ""}).isOk());
  Principal empty_not{Principal::Kind::kNot, "", {}};
  EXPECT_FALSE(CompiledRbac::compile(Rbac{Rbac::Action::kAllow, {{"p", {empty_not}}}, ""}).isOk());
  Principal deep{};
  for (int i = 0; i < 100; ++i) deep = notOf(deep);
  EXPECT_FALSE(CompiledRbac::compile(Rbac{Rbac::Action::kAllow, {{"p", {deep}}}, ""}).isOk());
  // A backreference is not RE2 syntax: refused at compile time, not at match time.
  Principal backref{Principal::Kind::kUriRegex, "(a)\\1", {}};
  EXPECT_FALSE(CompiledRbac::compile(Rbac{Rbac::Action::kAllow, {{"p", {backref}}}, ""}).isOk());
}

TEST(Rbac, FingerprintTracksPolicyContent) {
  Rbac a{Rbac::Action::kDeny, {{"p", {svcRegex("web")}}}, ""};
  Rbac b = a;
  Rbac c = a;
  c.policies[0].principals[0] = svcRegex("api");
  Rbac d = a;
  d.action = Rbac::Action::kAllow;
  EXPECT_EQ(mustCompile(a)->fingerprint(), mustCompile(b)->fingerprint());
  EXPECT_NE(mustCompile(a)->fingerprint(), mustCompile(c)->fingerprint());
  EXPECT_NE(mustCompile(a)->fingerprint(), mustCompile(d)->fingerprint());
}

}  // namespace
}  // namespace trellis::proxy::data
