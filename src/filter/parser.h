#pragma once
// Recursive-descent parser for the go-bexpr grammar as Consul accepts it. `and`/`or` chains are
// parsed iteratively; only `not` and parentheses recurse, and they are capped at
// kMaxNestingDepth, so neither parsing nor evaluation can exhaust the stack.

#include <string_view>

#include "common/status.h"
#include "filter/ast.h"

namespace trellis::filter::detail {

Result<NodePtr> parseExpression(std::string_view text);

}  // namespace trellis::filter::detail
