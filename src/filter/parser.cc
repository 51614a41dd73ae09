#include "filter/parser.h"

#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "filter/expression.h"
#include "filter/regex.h"
#include "filter/scanner.h"

namespace trellis::filter::detail {
namespace {

using MutableNode = std::unique_ptr<Node>;

std::string joinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& segment : path) {
    if (!out.empty()) out += '.';
    out += segment;
  }
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isKnownKeyword(std::string_view word) {
  for (std::string_view k : {"and", "or", "not", "in", "is", "empty", "contains", "matches"}) {
    if (word == k) return true;
  }
  return false;
}

// What stood left of the operator: a selector, or a value that must be followed by `in`.
struct LeftOperand {
  size_t pos = 0;
  std::optional<std::vector<std::string>> path;  // set when it can act as a selector
  std::string asValue;                           // its text when used as a value
};

class Parser {
 public:
  explicit Parser(std::string_view text) : scan_(text) {}

  Result<NodePtr> run() {
    scan_.skipSpace();
    if (scan_.atEnd()) return invalidArgument("filter expression is empty");
    MutableNode root = parseOr();
    if (!root) return scan_.error();
    scan_.skipSpace();
    if (!scan_.atEnd()) {
      if (scan_.peek() == ')') {
        scan_.fail(scan_.pos(), "unmatched ')'");
      } else {
        expected(scan_.pos(), "'and', 'or' or end of expression");
      }
      return scan_.error();
    }
    return NodePtr(std::move(root));
  }

 private:
  MutableNode parseOr() { return parseChain(NodeKind::kOr, "or"); }
  MutableNode parseAnd() { return parseChain(NodeKind::kAnd, "and"); }

  MutableNode parseChain(NodeKind kind, std::string_view keyword) {
    std::vector<MutableNode> operands;
    do {
      MutableNode operand = kind == NodeKind::kOr ? parseAnd() : parseUnary();
      if (!operand) return nullptr;
      operands.push_back(std::move(operand));
    } while (scan_.acceptWord(keyword));
    if (operands.size() == 1) return std::move(operands[0]);
    auto node = std::make_unique<Node>();
    node->kind = kind;
    for (auto& operand : operands) node->children.emplace_back(std::move(operand));
    return node;
  }

  MutableNode parseUnary() {
    scan_.skipSpace();
    const size_t start = scan_.pos();
    const bool isNot = scan_.peekWord() == "not";
    if (!isNot && scan_.peek() != '(') return parseMatch();
    if (++depth_ > kMaxNestingDepth) {
      scan_.fail(start, "expression nested more than " + std::to_string(kMaxNestingDepth) +
                            " levels deep");
      return nullptr;
    }
    MutableNode result;
    if (isNot) {
      scan_.advance(3);
      MutableNode operand = parseUnary();
      if (!operand) return nullptr;
      result = std::make_unique<Node>();
      result->kind = NodeKind::kNot;
      result->children.emplace_back(std::move(operand));
    } else {
      scan_.advance(1);
      result = parseOr();
      if (!result) return nullptr;
      scan_.skipSpace();
      if (scan_.peek() != ')') {
        expected(scan_.pos(), "')' to close '(' at position " + std::to_string(start + 1));
        return nullptr;
      }
      scan_.advance(1);
    }
    --depth_;
    return result;
  }

  MutableNode parseMatch() {
    scan_.skipSpace();
    LeftOperand left;
    left.pos = scan_.pos();
    std::string_view word = scan_.peekWord();
    const char c = scan_.peek();
    if (!word.empty()) {
      if (word == "and" || word == "or") return expected(left.pos, "a condition");
      std::vector<std::string> path;
      if (!parseSelector(path)) return nullptr;
      left.asValue = joinPath(path);
      left.path = std::move(path);
    } else if (c == '"') {
      if (!scan_.scanString(left.asValue)) return nullptr;
      left.path = parseJsonPointer(left.asValue);
    } else if (c == '`' || c == '-' || (c >= '0' && c <= '9')) {
      if (!parseValue(left.asValue, "")) return nullptr;
    } else {
      return expected(left.pos, "a condition");
    }
    return parseOperator(std::move(left));
  }

  MutableNode parseOperator(LeftOperand left) {
    auto node = std::make_unique<Node>();
    Match& m = node->match;
    scan_.skipSpace();
    const size_t opPos = scan_.pos();
    std::string_view word = scan_.peekWord();
    bool negated = false;
    if (word == "not") {
      scan_.advance(3);
      scan_.skipSpace();
      word = scan_.peekWord();
      negated = true;
      if (word != "in" && word != "contains" && word != "matches") {
        return expected(scan_.pos(), "'in', 'contains' or 'matches' after 'not'");
      }
    }
    if (word == "in") {
      scan_.advance(2);
      m.op = negated ? MatchOp::kNotIn : MatchOp::kIn;
      m.value = std::move(left.asValue);
      if (!parseRightSelector(m.path)) return nullptr;
      return node;
    }
    if (!left.path) {
      return expected(opPos,
                      "'in' or 'not in' after a value (a quoted selector must be a JSON "
                      "pointer such as \"/Service/Meta\")");
    }
    m.path = std::move(*left.path);
    if (scan_.peek() == '=' && scan_.peek(1) == '=') {
      scan_.advance(2);
      m.op = MatchOp::kEqual;
      if (!parseValue(m.value, "'=='")) return nullptr;
    } else if (scan_.peek() == '!' && scan_.peek(1) == '=') {
      scan_.advance(2);
      m.op = MatchOp::kNotEqual;
      if (!parseValue(m.value, "'!='")) return nullptr;
    } else if (word == "is") {
      scan_.advance(2);
      bool isNotEmpty = scan_.acceptWord("not");
      if (!scan_.acceptWord("empty")) {
        scan_.skipSpace();
        return expected(scan_.pos(), isNotEmpty ? "'empty' after 'is not'"
                                                : "'empty' or 'not empty' after 'is'");
      }
      m.op = isNotEmpty ? MatchOp::kIsNotEmpty : MatchOp::kIsEmpty;
    } else if (word == "contains") {
      scan_.advance(word.size());
      m.op = negated ? MatchOp::kNotIn : MatchOp::kIn;
      if (!parseValue(m.value, "'contains'")) return nullptr;
    } else if (word == "matches") {
      scan_.advance(word.size());
      m.op = negated ? MatchOp::kNotMatches : MatchOp::kMatches;
      scan_.skipSpace();
      const size_t valuePos = scan_.pos();
      if (!parseValue(m.value, "'matches'")) return nullptr;
      auto re = compileRegex(m.value);
      if (!re) {
        scan_.fail(valuePos, "invalid regular expression (" + re.status().message() + ")");
        return nullptr;
      }
      m.regex = std::move(*re);
    } else {
      return expected(opPos,
                      "an operator (==, !=, is empty, is not empty, in, not in, contains, "
                      "not contains, matches, not matches)");
    }
    return node;
  }

  // Bare words are values too: go-bexpr reads `Status == passing` as the string "passing".
  bool parseValue(std::string& out, std::string_view after) {
    scan_.skipSpace();
    const char c = scan_.peek();
    std::string what = after.empty() ? "a value" : "a value after " + std::string(after);
    if (isIdentifierStart(c)) {
      std::vector<std::string> path;
      if (!parseSelector(path)) return false;
      out = joinPath(path);
      return true;
    }
    if (c == '"' || c == '`') return scan_.scanString(out);
    if (c == '-' || (c >= '0' && c <= '9')) return scan_.scanNumber(out);
    expected(scan_.pos(), what);
    return false;
  }

  // The selector after `in`: dotted/indexed, or a JSON pointer in double quotes.
  bool parseRightSelector(std::vector<std::string>& path) {
    scan_.skipSpace();
    const size_t start = scan_.pos();
    if (isIdentifierStart(scan_.peek())) return parseSelector(path);
    if (scan_.peek() == '"') {
      std::string text;
      if (!scan_.scanString(text)) return false;
      auto pointer = parseJsonPointer(text);
      if (!pointer)
        return scan_.fail(start, "invalid selector: quoted selectors are JSON pointers");
      path = std::move(*pointer);
      return true;
    }
    expected(start, "a selector after 'in'");
    return false;
  }

  // Identifier ('.' Identifier | '.' digits | '[' string ']')*
  bool parseSelector(std::vector<std::string>& path) {
    std::string segment;
    if (!scan_.scanIdentifier(segment)) return false;
    path.push_back(std::move(segment));
    while (true) {
      if (scan_.peek() == '.') {
        scan_.advance(1);
        const char c = scan_.peek();
        if (c >= '0' && c <= '9') {
          segment.clear();
          while (scan_.peek() >= '0' && scan_.peek() <= '9') {
            segment += scan_.peek();
            scan_.advance(1);
          }
        } else if (!isIdentifierStart(c)) {
          expected(scan_.pos(), "a field name after '.'");
          return false;
        } else if (!scan_.scanIdentifier(segment)) {
          return false;
        }
        path.push_back(std::move(segment));
      } else if (scan_.peek() == '[') {
        const size_t open = scan_.pos();
        scan_.advance(1);
        scan_.skipSpace();
        if (scan_.peek() != '"' && scan_.peek() != '`') {
          return scan_.fail(scan_.pos(), "invalid index: expected a quoted string after '['");
        }
        if (!scan_.scanString(segment)) return false;
        scan_.skipSpace();
        if (scan_.peek() != ']') {
          return scan_.fail(scan_.pos(), "unclosed index expression opened at position " +
                                             std::to_string(open + 1));
        }
        scan_.advance(1);
        path.push_back(std::move(segment));
      } else {
        return true;
      }
    }
  }

  // Records "expected X, found Y at position N"; returns null for the caller to propagate.
  MutableNode expected(size_t pos, std::string_view what) {
    std::string found = scan_.describe(pos);
    std::string lower = lowercase(found);
    bool miscased =
        lower != found && lower.size() > 2 && isKnownKeyword(lower.substr(1, lower.size() - 2));
    scan_.fail(pos, "expected " + std::string(what) + ", found " + found,
               miscased ? " (keywords are lowercase)" : "");
    return nullptr;
  }

  Scanner scan_;
  int depth_ = 0;
};

}  // namespace

Result<NodePtr> parseExpression(std::string_view text) {
  if (text.size() > kMaxExpressionBytes) {
    return invalidArgument("filter expression longer than " + std::to_string(kMaxExpressionBytes) +
                           " bytes");
  }
  return Parser(text).run();
}

}  // namespace trellis::filter::detail
