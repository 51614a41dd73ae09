#include "proxy/data/rbac.h"

#include <re2/re2.h>

namespace trellis::proxy::data {

// Bounds the principal tree: configs come from the network, and evaluation recurses.
constexpr int kMaxPrincipalDepth = 32;

struct CompiledRbac::Node {
  Principal::Kind kind = Principal::Kind::kAny;
  std::string exact;
  std::unique_ptr<re2::RE2> regex;
  std::vector<Node> children;

  bool matches(std::string_view uri) const {
    switch (kind) {
      case Principal::Kind::kAny:
        return true;
      case Principal::Kind::kUriExact:
        return !uri.empty() && uri == exact;
      case Principal::Kind::kUriRegex:
        return !uri.empty() &&
               re2::RE2::FullMatch(re2::StringPiece(uri.data(), uri.size()), *regex);
      case Principal::Kind::kAnd:
        for (const auto& c : children) {
          if (!c.matches(uri)) return false;
        }
        return true;
      case Principal::Kind::kOr:
        for (const auto& c : children) {
          if (c.matches(uri)) return true;
        }
        return false;
      case Principal::Kind::kNot:
        return !children.front().matches(uri);
    }
    return false;
  }
};

struct CompiledRbac::Policy {
  std::string name;
  std::vector<Node> principals;
};

namespace {

const char* kindName(Principal::Kind k) {
  switch (k) {
    case Principal::Kind::kAny:
      return "any";
    case Principal::Kind::kUriRegex:
      return "regex";
    case Principal::Kind::kUriExact:
      return "exact";
    case Principal::Kind::kAnd:
      return "and";
    case Principal::Kind::kOr:
      return "or";
    case Principal::Kind::kNot:
      return "not";
  }
  return "?";
}

Result<CompiledRbac::Node> compileNode(const Principal& p, int depth, std::string& fp) {
  if (depth > kMaxPrincipalDepth) return invalidArgument("rbac: principal nesting too deep");
  CompiledRbac::Node n;
  n.kind = p.kind;
  fp += kindName(p.kind);
  fp += '(';
  switch (p.kind) {
    case Principal::Kind::kAny:
      break;
    case Principal::Kind::kUriExact:
      n.exact = p.pattern;
      fp += std::to_string(p.pattern.size()) + ":" + p.pattern;
      break;
    case Principal::Kind::kUriRegex: {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      n.regex = std::make_unique<re2::RE2>(p.pattern, opts);
      if (!n.regex->ok()) {
        return invalidArgument("rbac: bad regex '" + p.pattern + "': " + n.regex->error());
      }
      fp += std::to_string(p.pattern.size()) + ":" + p.pattern;
      break;
    }
    case Principal::Kind::kAnd:
    case Principal::Kind::kOr:
    case Principal::Kind::kNot:
      if (p.kind == Principal::Kind::kNot && p.ids.size() != 1) {
        return invalidArgument("rbac: not_id needs exactly one principal");
      }
      for (const auto& child : p.ids) {
        auto c = compileNode(child, depth + 1, fp);
        if (!c) return c.status();
        n.children.push_back(std::move(c.value()));
        fp += ',';
      }
      break;
  }
  fp += ')';
  return n;
}

}  // namespace

CompiledRbac::CompiledRbac() = default;
CompiledRbac::~CompiledRbac() = default;

Result<CompiledRbacPtr> CompiledRbac::compile(const Rbac& rbac) {
  std::shared_ptr<CompiledRbac> out(new CompiledRbac());
  out->action_ = rbac.action;
  out->fingerprint_ = rbac.action == Rbac::Action::kAllow ? "ALLOW" : "DENY";
  for (const auto& policy : rbac.policies) {
    Policy compiled;
    compiled.name = policy.name;
    out->fingerprint_ += "|" + policy.name + ":";
    for (const auto& p : policy.principals) {
      auto node = compileNode(p, 0, out->fingerprint_);
      if (!node) return node.status();
      compiled.principals.push_back(std::move(node.value()));
    }
    out->policies_.push_back(std::move(compiled));
  }
  return CompiledRbacPtr(std::move(out));
}

RbacDecision CompiledRbac::evaluate(std::string_view peer_uri) const {
  for (const auto& policy : policies_) {
    for (const auto& p : policy.principals) {
      if (p.matches(peer_uri)) {
        return {action_ == Rbac::Action::kAllow, policy.name};
      }
    }
  }
  return {action_ == Rbac::Action::kDeny, {}};
}

}  // namespace trellis::proxy::data
