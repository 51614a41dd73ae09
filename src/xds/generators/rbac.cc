#include "xds/generators/rbac.h"

#include <algorithm>
#include <vector>

namespace trellis::xds {

namespace {

using envoy::config::rbac::v3::Permission;
using envoy::config::rbac::v3::Principal;
using envoy::config::rbac::v3::RBAC;
using intentions::Intention;

constexpr std::string_view kAnySegment = "[^/]+";

enum class Action { kDeny, kAllow, kLayer7 };

struct Source {
  std::string_view partition;  // empty = default
  std::string_view ns;
  std::string_view name;
  bool operator==(const Source&) const = default;
};

// Wildcards only ever follow exact parts, so a wildcard namespace implies a wildcard name.
int countWild(const Source& s) {
  if (s.ns == intentions::kWildcard) return 2;
  if (s.name == intentions::kWildcard) return 1;
  return 0;
}

// True when `against` is strictly wider than `tester` and covers it.
bool covers(const Source& against, const Source& tester) {
  if (countWild(tester) >= countWild(against)) return false;
  return tester.partition == against.partition &&
         (tester.ns == against.ns || against.ns == intentions::kWildcard) &&
         (tester.name == against.name || against.name == intentions::kWildcard);
}

std::string_view partitionOf(const Intention& ixn) {
  return ixn.source_partition == "default" ? std::string_view() : ixn.source_partition;
}

struct Perm {
  Action action;
  Permission perm;
  std::vector<const Permission*> not_perms;
  bool skip = false;
};

struct Rule {
  Source source;
  std::vector<Source> not_sources;
  Action action;
  std::vector<Perm> perms;
  bool skip = false;
};

Action actionOf(std::string_view action) {
  return action == "allow" ? Action::kAllow : Action::kDeny;
}

Principal idPrincipal(std::string_view trust_domain, const Source& s) {
  Principal p;
  p.mutable_authenticated()->mutable_principal_name()->mutable_safe_regex()->set_regex(
      spiffePattern(trust_domain, s.partition, s.ns, s.name));
  return p;
}

Principal flattenPrincipal(std::string_view trust_domain, Rule& rule) {
  auto& nots = rule.not_sources;
  // Keep the most specific first; drop any entry another (wider) entry already covers.
  std::stable_sort(nots.begin(), nots.end(),
                   [](const Source& a, const Source& b) { return countWild(a) < countWild(b); });
  std::vector<Source> keep;
  for (size_t i = 0; i < nots.size(); ++i) {
    bool covered = false;
    for (size_t j = i + 1; j < nots.size() && !covered; ++j) covered = covers(nots[j], nots[i]);
    if (!covered) keep.push_back(nots[i]);
  }
  if (keep.empty()) return idPrincipal(trust_domain, rule.source);
  Principal out;
  auto* ids = out.mutable_and_ids()->mutable_ids();
  *ids->Add() = idPrincipal(trust_domain, rule.source);
  for (const Source& s : keep) *ids->Add()->mutable_not_id() = idPrincipal(trust_domain, s);
  return out;
}

Permission anyPermission() {
  Permission p;
  p.set_any(true);
  return p;
}

Permission andPermissions(std::vector<Permission> parts) {
  if (parts.empty()) return anyPermission();
  if (parts.size() == 1) return std::move(parts[0]);
  Permission p;
  for (auto& part : parts) *p.mutable_and_rules()->add_rules() = std::move(part);
  return p;
}

Permission headerPermission(const model::IntentionHeaderMatch& h) {
  Permission p;
  auto* m = p.mutable_header();
  m->set_name(h.name);
  auto* s = m->mutable_string_match();
  if (!h.exact.empty()) {
    s->set_exact(h.exact);
  } else if (!h.regex.empty()) {
    s->mutable_safe_regex()->set_regex(h.regex);
  } else if (!h.prefix.empty()) {
    s->set_prefix(h.prefix);
  } else if (!h.suffix.empty()) {
    s->set_suffix(h.suffix);
  } else {
    m->clear_string_match();
    m->set_present_match(true);
  }
  if (h.invert) m->set_invert_match(true);
  return p;
}

// An HTTP permission: the AND of its path, header and method matches (any when it has none).
Permission convertPermission(const model::IntentionPermission& perm) {
  if (!perm.http) return anyPermission();
  const auto& http = *perm.http;
  std::vector<Permission> parts;
  if (!http.path_exact.empty() || !http.path_prefix.empty() || !http.path_regex.empty()) {
    Permission p;
    auto* path = p.mutable_url_path()->mutable_path();
    if (!http.path_exact.empty()) {
      path->set_exact(http.path_exact);
    } else if (!http.path_prefix.empty()) {
      path->set_prefix(http.path_prefix);
    } else {
      path->mutable_safe_regex()->set_regex(http.path_regex);
    }
    parts.push_back(std::move(p));
  }
  for (const auto& h : http.headers) {
    if (!h.present && h.exact.empty() && h.regex.empty() && h.prefix.empty() && h.suffix.empty()) {
      continue;  // validation forbids it; never widen a rule because of it
    }
    parts.push_back(headerPermission(h));
  }
  if (!http.methods.empty()) {
    std::string methods;
    for (const auto& m : http.methods) methods += (methods.empty() ? "" : "|") + m;
    Permission p;
    p.mutable_header()->set_name(":method");
    p.mutable_header()->mutable_string_match()->mutable_safe_regex()->set_regex(methods);
    parts.push_back(std::move(p));
  }
  return andPermissions(std::move(parts));
}

// Step 1: highest precedence first, one rule per source.
std::vector<Rule> intermediateForm(const proxycfg::Intentions& in, bool is_http) {
  std::vector<const Intention*> sorted;
  for (const auto& ixn : in.sorted) {
    if (ixn.source_peer.empty()) sorted.push_back(&ixn);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Intention* a, const Intention* b) { return precedenceBefore(*a, *b); });
  std::vector<Rule> rules;
  for (const Intention* ixn : sorted) {
    Source src{partitionOf(*ixn), ixn->source_ns, ixn->source_name};
    bool seen =
        std::any_of(rules.begin(), rules.end(), [&](const Rule& r) { return r.source == src; });
    if (seen) continue;
    Rule rule{src, {}, Action::kDeny, {}};
    if (!ixn->isL7()) {
      rule.action = actionOf(ixn->action);
    } else if (is_http) {
      rule.action = Action::kLayer7;
      for (const auto& p : ixn->permissions) {
        rule.perms.push_back(Perm{actionOf(p.action), convertPermission(p), {}});
      }
    }  // else an L7 intention on an L4 listener: a deny, as in Consul
    rules.push_back(std::move(rule));
  }
  return rules;
}

// Step 3 for permissions within one L7 intention: earlier permissions win, no subset test.
std::vector<Permission> foldPermissions(std::vector<Perm>& perms, Action default_action) {
  for (size_t i = perms.size(); i-- > 0;) {
    for (size_t j = i + 1; j < perms.size(); ++j) {
      if (!perms[j].skip) perms[j].not_perms.push_back(&perms[i].perm);
    }
    perms[i].skip = perms[i].action == default_action;
  }
  std::vector<Permission> out;
  for (auto& p : perms) {
    if (p.skip) continue;
    if (p.not_perms.empty()) {
      out.push_back(p.perm);
      continue;
    }
    std::vector<Permission> parts{p.perm};
    for (const Permission* n : p.not_perms) *parts.emplace_back().mutable_not_rule() = *n;
    out.push_back(andPermissions(std::move(parts)));
  }
  return out;
}

}  // namespace

std::string spiffePattern(std::string_view trust_domain, std::string_view partition,
                          std::string_view ns, std::string_view name) {
  std::string out = "^spiffe://";
  out += trust_domain;
  if (!partition.empty() && partition != "default") {
    out += "/ap/";
    out += partition;
  }
  out += "/ns/";
  out += ns == intentions::kWildcard ? kAnySegment : ns;
  out += "/dc/";
  out += kAnySegment;
  out += "/svc/";
  out += name == intentions::kWildcard ? kAnySegment : name;
  out += "$";
  return out;
}

RBAC makeRbacRules(const proxycfg::Intentions& intentions, std::string_view trust_domain,
                   bool is_http) {
  std::vector<Rule> rules = intermediateForm(intentions, is_http);
  const Action default_action = intentions.default_allow ? Action::kAllow : Action::kDeny;

  RBAC rbac;
  rbac.set_action(intentions.default_allow ? RBAC::DENY : RBAC::ALLOW);

  for (size_t i = rules.size(); i-- > 0;) {
    for (size_t j = i + 1; j < rules.size(); ++j) {
      if (!rules[j].skip && covers(rules[j].source, rules[i].source)) {
        rules[j].not_sources.push_back(rules[i].source);
      }
    }
    rules[i].skip = rules[i].action == default_action;
  }

  envoy::config::rbac::v3::Policy l4;
  size_t index = 0;  // position among retained rules, as in Consul's policy names
  for (Rule& rule : rules) {
    if (rule.skip) continue;
    Principal principal = flattenPrincipal(trust_domain, rule);
    if (rule.action != Action::kLayer7) {
      *l4.add_principals() = std::move(principal);
      ++index;
      continue;
    }
    std::vector<Permission> perms = foldPermissions(rule.perms, default_action);
    if (perms.empty()) continue;  // every permission had the default action
    auto& policy =
        (*rbac.mutable_policies())[std::string(kRbacL7PolicyPrefix) + std::to_string(index++)];
    *policy.add_principals() = std::move(principal);
    for (auto& p : perms) *policy.add_permissions() = std::move(p);
  }
  if (l4.principals_size() > 0) {
    *l4.add_permissions() = anyPermission();
    (*rbac.mutable_policies())[std::string(kRbacL4PolicyName)] = std::move(l4);
  }
  return rbac;
}

}  // namespace trellis::xds
