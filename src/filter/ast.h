#pragma once
// Internal AST of a filter expression. Built once by the parser, then only read.

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace trellis::filter::detail {

enum class MatchOp {
  kEqual,
  kNotEqual,
  kIn,  // also `contains`, with the operands swapped
  kNotIn,
  kIsEmpty,
  kIsNotEmpty,
  kMatches,
  kNotMatches,
};

struct Match {
  // Path segments; empty means the element itself (JSON pointer `""`).
  std::vector<std::string> path;
  MatchOp op = MatchOp::kEqual;
  // The literal as go-bexpr keeps it: unquoted text, coerced to the field's type at evaluation.
  std::string value;
  std::optional<std::regex> regex;  // set for kMatches / kNotMatches
};

enum class NodeKind { kAnd, kOr, kNot, kMatch };

struct Node {
  NodeKind kind = NodeKind::kMatch;
  std::vector<std::unique_ptr<const Node>> children;  // kAnd/kOr: 2+, kNot: 1
  Match match;                                        // kMatch only
};

using NodePtr = std::unique_ptr<const Node>;

}  // namespace trellis::filter::detail
