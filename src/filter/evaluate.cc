#include "filter/evaluate.h"

#include <optional>
#include <string>

#include "filter/coerce.h"
#include "filter/regex.h"

namespace trellis::filter::detail {
namespace {

using nlohmann::json;

// Lists of lists are walked "any element" too, but only this deep.
constexpr int kMaxListHops = 8;

// go-bexpr's answer when the selected key is absent (we also use it for JSON null): nothing
// equals, contains or matches a missing value, and a missing value is empty.
bool notPresent(MatchOp op) {
  switch (op) {
    case MatchOp::kNotEqual:
    case MatchOp::kNotIn:
    case MatchOp::kIsEmpty:
    case MatchOp::kNotMatches:
      return true;
    default:
      return false;
  }
}

// Compares a JSON scalar with a literal coerced to the scalar's type. nullopt: the literal does
// not convert (go-bexpr reports an error).
std::optional<bool> equalsLiteral(const json& v, const std::string& literal) {
  switch (v.type()) {
    case json::value_t::string:
      return v.get_ref<const std::string&>() == literal;
    case json::value_t::boolean: {
      auto b = parseGoBool(literal);
      if (!b) return std::nullopt;
      return *b == v.get<bool>();
    }
    case json::value_t::number_unsigned: {
      if (auto u = parseGoUint(literal)) return *u == v.get<uint64_t>();
      if (parseGoInt(literal)) return false;  // negative: never equal
      // A Go float field rendered without a fraction still compares as a float.
      if (auto f = parseGoFloat(literal)) return *f == static_cast<double>(v.get<uint64_t>());
      return std::nullopt;
    }
    case json::value_t::number_integer: {
      if (auto i = parseGoInt(literal)) return *i == v.get<int64_t>();
      if (parseGoUint(literal)) return false;  // above int64 range
      if (auto f = parseGoFloat(literal)) return *f == static_cast<double>(v.get<int64_t>());
      return std::nullopt;
    }
    case json::value_t::number_float: {
      auto f = parseGoFloat(literal);
      if (!f) return std::nullopt;
      return *f == v.get<double>();
    }
    default:
      return std::nullopt;
  }
}

// Membership: list element, object key, or substring.
std::optional<bool> containsLiteral(const json& v, const std::string& literal) {
  switch (v.type()) {
    case json::value_t::object:
      return v.contains(literal);
    case json::value_t::array:
      for (const json& item : v) {
        // Elements whose type the literal cannot convert to are skipped, as go-bexpr does for
        // mixed lists.
        if (item.is_primitive() && !item.is_null() &&
            equalsLiteral(item, literal).value_or(false)) {
          return true;
        }
      }
      return false;
    case json::value_t::string:
      return v.get_ref<const std::string&>().find(literal) != std::string::npos;
    default:
      return std::nullopt;
  }
}

std::optional<bool> isEmpty(const json& v) {
  // json::empty() treats a string as one value, so ask the string itself.
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return v.empty();
  return std::nullopt;
}

bool applyOperator(const Match& m, const json& v) {
  if (v.is_null()) return notPresent(m.op);
  std::optional<bool> result;
  bool negate = false;
  switch (m.op) {
    case MatchOp::kNotEqual:
      negate = true;
      [[fallthrough]];
    case MatchOp::kEqual:
      result = equalsLiteral(v, m.value);
      break;
    case MatchOp::kNotIn:
      negate = true;
      [[fallthrough]];
    case MatchOp::kIn:
      result = containsLiteral(v, m.value);
      break;
    case MatchOp::kIsNotEmpty:
      negate = true;
      [[fallthrough]];
    case MatchOp::kIsEmpty:
      result = isEmpty(v);
      break;
    case MatchOp::kNotMatches:
      negate = true;
      [[fallthrough]];
    case MatchOp::kMatches:
      if (v.is_string() && m.regex) {
        result = regexSearch(*m.regex, v.get_ref<const std::string&>());
      }
      break;
  }
  // Where go-bexpr would fail the whole request (operator not applicable to the value's type),
  // the element is simply excluded, whichever way the operator is negated.
  if (!result) return false;
  return negate ? !*result : *result;
}

std::optional<size_t> listIndex(const std::string& segment) {
  if (segment.empty() || segment.size() > 9) return std::nullopt;
  size_t index = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<size_t>(c - '0');
  }
  return index;
}

bool walk(const Match& m, const json& v, size_t depth, int listHops) {
  if (depth == m.path.size()) return applyOperator(m, v);
  const std::string& segment = m.path[depth];
  switch (v.type()) {
    case json::value_t::object: {
      auto it = v.find(segment);
      if (it == v.end()) return notPresent(m.op);
      return walk(m, *it, depth + 1, listHops);
    }
    case json::value_t::array: {
      if (auto index = listIndex(segment)) {
        if (*index >= v.size()) return notPresent(m.op);
        return walk(m, v[*index], depth + 1, listHops);
      }
      // A list in the middle of a selector: true when the rest of the condition holds for any
      // element (go-bexpr's rule, e.g. `Checks.Status == critical`).
      if (listHops >= kMaxListHops) return false;
      for (const json& item : v) {
        if (walk(m, item, depth, listHops + 1)) return true;
      }
      return false;
    }
    case json::value_t::null:
      return notPresent(m.op);
    default:
      return false;  // a scalar has no fields
  }
}

}  // namespace

bool evaluate(const Node& node, const json& element) {
  switch (node.kind) {
    case NodeKind::kAnd:
      for (const auto& child : node.children) {
        if (!evaluate(*child, element)) return false;
      }
      return true;
    case NodeKind::kOr:
      for (const auto& child : node.children) {
        if (evaluate(*child, element)) return true;
      }
      return false;
    case NodeKind::kNot:
      return !evaluate(*node.children.front(), element);
    case NodeKind::kMatch:
      return walk(node.match, element, 0, 0);
  }
  return false;
}

}  // namespace trellis::filter::detail
