#pragma once
// A compiled Consul `?filter=` expression (the go-bexpr language), evaluated against the JSON
// rendering of one result element.
//
// Two phases: parse() does everything that can fail (syntax, regex compilation, size limits) and
// returns an immutable Expression; matches() cannot fail, never throws and is safe to call from
// any number of threads at once on the same Expression (the AST is shared and read-only).
//
// Evaluation rules where JSON differs from go-bexpr's reflection over Go structs are listed in
// README.md (missing fields, null, type mismatches, lists in the middle of a selector).

#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::filter {

namespace detail {
struct Node;
}  // namespace detail

// Limits that keep hostile input (and the fuzzer) from exhausting the stack or the CPU.
inline constexpr size_t kMaxExpressionBytes = 16 * 1024;
inline constexpr int kMaxNestingDepth = 64;
inline constexpr size_t kMaxRegexBytes = 512;

class Expression {
 public:
  // Errors are kInvalidArgument with a one-line reason that includes a 1-based position.
  static Result<Expression> parse(std::string_view text);

  bool matches(const nlohmann::json& element) const;

 private:
  explicit Expression(std::shared_ptr<const detail::Node> root) : root_(std::move(root)) {}

  std::shared_ptr<const detail::Node> root_;
};

}  // namespace trellis::filter
