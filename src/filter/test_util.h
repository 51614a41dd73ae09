#pragma once
// Helpers shared by the filter unit tests.

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "filter/expression.h"

namespace trellis::filter::testing {

// Parses (failing the test on a parse error) and evaluates.
inline bool eval(std::string_view text, const nlohmann::json& element) {
  auto expr = Expression::parse(text);
  EXPECT_TRUE(expr.isOk()) << text << " -> " << expr.status().message();
  return expr.isOk() && expr->matches(element);
}

// The parse error message, or "<parsed>" when the text parsed.
inline std::string parseError(std::string_view text) {
  auto expr = Expression::parse(text);
  if (expr.isOk()) return "<parsed>";
  EXPECT_EQ(expr.status().code(), Code::kInvalidArgument);
  return expr.status().message();
}

}  // namespace trellis::filter::testing
