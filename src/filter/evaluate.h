#pragma once
// Evaluates a parsed filter against one JSON element. Pure and read-only: safe to call
// concurrently on a shared AST.

#include <nlohmann/json.hpp>

#include "filter/ast.h"

namespace trellis::filter::detail {

bool evaluate(const Node& node, const nlohmann::json& element);

}  // namespace trellis::filter::detail
