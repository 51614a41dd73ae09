// The network RBAC filter: the L4 subset Consul generates from intentions (permissions `any`,
// principals matching the peer's SPIFFE ID, combined with and/or/not).
#include <algorithm>

#include <re2/re2.h>

#include "proxy/xds/translate.h"

namespace trellis::proxy::xds {

namespace {

using envoy::config::rbac::v3::Principal;
using envoy::type::matcher::v3::StringMatcher;

// Consul nests principals two levels deep; this bounds recursion on hostile input.
constexpr int kMaxPrincipalDepth = 16;
// Matches Consul's bootstrap (re2.max_program_size.error_level); also caps compile memory.
constexpr int kMaxRegexProgramSize = 1 << 20;

Status checkRegex(const std::string& pattern) {
  if (pattern.size() > 16384) return invalidArgument("rbac regex is too long");
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(8 << 20);
  RE2 re(pattern, options);
  if (!re.ok()) return invalidArgument("rbac regex '" + pattern + "' rejected: " + re.error());
  if (re.ProgramSize() > kMaxRegexProgramSize) {
    return invalidArgument("rbac regex '" + pattern.substr(0, 200) + "' is too large");
  }
  return Status::ok();
}

// Every StringMatcher form becomes an exact match or a full-match RE2 pattern.
Result<proxy::Principal> principalName(const StringMatcher& m) {
  if (m.ignore_case()) return invalidArgument("rbac principal_name ignore_case is not supported");
  proxy::Principal p;
  p.kind = proxy::Principal::Kind::kUriRegex;
  switch (m.match_pattern_case()) {
    case StringMatcher::kExact:
      p.kind = proxy::Principal::Kind::kUriExact;
      p.pattern = m.exact();
      return p;
    case StringMatcher::kSafeRegex:
      p.pattern = m.safe_regex().regex();
      break;
    case StringMatcher::kPrefix:
      p.pattern = RE2::QuoteMeta(m.prefix()) + ".*";
      break;
    case StringMatcher::kSuffix:
      p.pattern = ".*" + RE2::QuoteMeta(m.suffix());
      break;
    case StringMatcher::kContains:
      p.pattern = ".*" + RE2::QuoteMeta(m.contains()) + ".*";
      break;
    default:
      return invalidArgument("unsupported rbac principal_name matcher");
  }
  if (auto s = checkRegex(p.pattern); !s) return s;
  return p;
}

Result<proxy::Principal> principal(const Principal& proto, int depth) {
  if (depth > kMaxPrincipalDepth) return invalidArgument("rbac principals nest too deep");
  proxy::Principal out;
  auto children = [&](const auto& ids, proxy::Principal::Kind kind) -> Result<proxy::Principal> {
    if (ids.empty()) return invalidArgument("rbac and_ids/or_ids without ids");
    out.kind = kind;
    for (const auto& id : ids) {
      auto child = principal(id, depth + 1);
      if (!child) return child.status();
      out.ids.push_back(std::move(*child));
    }
    return out;
  };
  switch (proto.identifier_case()) {
    case Principal::kAny:
      out.kind = proxy::Principal::Kind::kAny;
      return out;
    case Principal::kAuthenticated:
      // Without a name it matches any authenticated peer, and every inbound peer is one.
      if (!proto.authenticated().has_principal_name()) return out;
      return principalName(proto.authenticated().principal_name());
    case Principal::kAndIds:
      return children(proto.and_ids().ids(), proxy::Principal::Kind::kAnd);
    case Principal::kOrIds:
      return children(proto.or_ids().ids(), proxy::Principal::Kind::kOr);
    case Principal::kNotId: {
      auto child = principal(proto.not_id(), depth + 1);
      if (!child) return child.status();
      out.kind = proxy::Principal::Kind::kNot;
      out.ids.push_back(std::move(*child));
      return out;
    }
    case Principal::IDENTIFIER_NOT_SET:
      return invalidArgument("rbac principal without an identifier");
    default:
      return invalidArgument("rbac principal type " + std::to_string(proto.identifier_case()) +
                             " is not supported at L4");
  }
}

}  // namespace

Result<Rbac> translateRbac(const envoy::extensions::filters::network::rbac::v3::RBAC& proto) {
  if (proto.has_matcher() || proto.has_shadow_matcher()) {
    return invalidArgument("rbac matcher trees are not supported");
  }
  Rbac out;
  out.stat_prefix = proto.stat_prefix();
  const auto& rules = proto.rules();
  switch (rules.action()) {
    case envoy::config::rbac::v3::RBAC::ALLOW:
      out.action = Rbac::Action::kAllow;
      break;
    case envoy::config::rbac::v3::RBAC::DENY:
      out.action = Rbac::Action::kDeny;
      break;
    default:
      return invalidArgument("rbac action " + std::to_string(rules.action()) + " not supported");
  }
  for (const auto& [name, policy] : rules.policies()) {
    if (policy.has_condition() || policy.has_checked_condition()) {
      return invalidArgument("rbac policy '" + name + "': conditions are not supported");
    }
    if (policy.permissions().empty() || policy.principals().empty()) {
      return invalidArgument("rbac policy '" + name + "' needs permissions and principals");
    }
    for (const auto& permission : policy.permissions()) {
      if (permission.rule_case() != envoy::config::rbac::v3::Permission::kAny) {
        return invalidArgument("rbac policy '" + name + "': only `any` permissions at L4");
      }
    }
    RbacPolicy p;
    p.name = name;
    for (const auto& proto_principal : policy.principals()) {
      auto pr = principal(proto_principal, 0);
      if (!pr) return invalidArgument("rbac policy '" + name + "': " + pr.status().message());
      p.principals.push_back(std::move(*pr));
    }
    out.policies.push_back(std::move(p));
  }
  // Protobuf maps have no order; sorting makes configs comparable and dumps stable.
  std::sort(out.policies.begin(), out.policies.end(),
            [](const RbacPolicy& a, const RbacPolicy& b) { return a.name < b.name; });
  return out;
}

}  // namespace trellis::proxy::xds
