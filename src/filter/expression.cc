#include "filter/expression.h"

#include "filter/ast.h"
#include "filter/evaluate.h"
#include "filter/parser.h"

namespace trellis::filter {

Result<Expression> Expression::parse(std::string_view text) {
  auto root = detail::parseExpression(text);
  if (!root) return root.status();
  return Expression(std::shared_ptr<const detail::Node>(std::move(*root)));
}

bool Expression::matches(const nlohmann::json& element) const {
  if (!root_) return false;
  try {
    return detail::evaluate(*root_, element);
  } catch (...) {
    return false;  // evaluation does not throw by design; this only guards that promise
  }
}

}  // namespace trellis::filter
