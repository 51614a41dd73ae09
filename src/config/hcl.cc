#include "config/hcl.h"

#include <charconv>
#include <cmath>
#include <memory>
#include <unordered_map>
#include <vector>

#include "config/hcl_lexer.h"

namespace trellis::config {
namespace {

using nlohmann::json;

// The parser first builds this small tree, which remembers where each key was written and
// whether an object came from block labels; lowering to JSON then groups repeated keys, which
// needs the whole object at hand.
struct Entry;
struct Node {
  enum class Kind { kScalar, kList, kObject } kind = Kind::kScalar;
  json scalar;
  int line = 0;
  std::vector<Node> items;     // kList
  std::vector<Entry> entries;  // kObject
};
struct Entry {
  std::string key;
  int line = 0;
  bool label_container = false;  // the object made by a block label (key "label" { ... })
  Node value;
};

Status errorAt(const Token& t, const std::string& reason) {
  return invalidArgument("line " + std::to_string(t.line) + ", column " + std::to_string(t.col) +
                         ": " + reason);
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kIdent:
      return "identifier '" + t.text + "'";
    case TokenKind::kString:
      return "string";
    case TokenKind::kNumber:
      return "number " + t.text;
    case TokenKind::kLBrace:
      return "'{'";
    case TokenKind::kRBrace:
      return "'}'";
    case TokenKind::kLBracket:
      return "'['";
    case TokenKind::kRBracket:
      return "']'";
    case TokenKind::kAssign:
      return "'='";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kEof:
      return "end of input";
  }
  return "token";
}

Result<json> parseNumber(const Token& t) {
  std::string_view text = t.text;
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  bool hex = text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (!hex && text.find_first_of(".eE") != std::string_view::npos) {
    double d = 0;
    auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), d);
    if (ec != std::errc() || p != t.text.data() + t.text.size() || !std::isfinite(d)) {
      return errorAt(t, "invalid number " + t.text);
    }
    return json(d);
  }
  int base = 10;
  if (hex) {
    base = 16;
    text.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;  // Go's ParseInt(s, 0, 64), which HCL v1 uses, reads a leading 0 as octal.
    text.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return errorAt(t, ec == std::errc::result_out_of_range ? "integer out of range: " + t.text
                                                           : "invalid number " + t.text);
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (magnitude > kMaxPositive + (negative ? 1 : 0)) {
    return errorAt(t, "integer out of range: " + t.text);
  }
  int64_t v = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return json(v);
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Node> parseDocument() {
    Node root;
    root.kind = Node::Kind::kObject;
    root.line = 1;
    Status s = parseItems(root, /*depth=*/0, /*top_level=*/true);
    if (!s.isOk()) return s;
    return root;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& take() {
    const Token& t = tokens_[pos_];
    if (t.kind != TokenKind::kEof) ++pos_;
    return t;
  }

  Status tooDeep(const Token& t) const {
    return errorAt(t, "nesting too deep (more than " + std::to_string(kMaxHclDepth) + " levels)");
  }

  // Items of an object body until '}' (consumed) or, at top level, end of input.
  Status parseItems(Node& obj, int depth, bool top_level) {
    while (true) {
      const Token& t = peek();
      if (t.kind == TokenKind::kEof) {
        if (top_level) return Status::ok();
        return errorAt(t, "unexpected end of input, expected '}'");
      }
      if (t.kind == TokenKind::kRBrace) {
        if (top_level) return errorAt(t, "unexpected '}'");
        take();
        return Status::ok();
      }
      if (t.kind == TokenKind::kComma) {  // HCL v1 tolerates commas between object items
        take();
        continue;
      }
      Status s = parseItem(obj, depth);
      if (!s.isOk()) return s;
    }
  }

  // key = value | key [label...] { body }
  Status parseItem(Node& obj, int depth) {
    std::vector<Token> keys;
    while (peek().kind == TokenKind::kIdent || peek().kind == TokenKind::kString) {
      keys.push_back(take());
    }
    const Token& t = peek();
    if (keys.empty()) return errorAt(t, "expected a key, found " + describe(t));
    if (t.kind == TokenKind::kAssign) {
      if (keys.size() > 1)
        return errorAt(keys[1], "unexpected " + describe(keys[1]) + " after key");
      take();
      auto value = parseValue(depth + 1);
      if (!value.isOk()) return value.status();
      obj.entries.push_back(Entry{keys[0].text, keys[0].line, false, std::move(value).value()});
      return Status::ok();
    }
    if (t.kind != TokenKind::kLBrace) {
      return errorAt(
          t, "expected '=' or '{' after key '" + keys.back().text + "', found " + describe(t));
    }
    int levels = static_cast<int>(keys.size());
    if (depth + levels > kMaxHclDepth) return tooDeep(t);
    auto body = parseObject(depth + levels);
    if (!body.isOk()) return body.status();
    Node value = std::move(body).value();
    // Wrap from the innermost label outwards: key "a" "b" { } is key { a { b { } } }.
    for (size_t i = keys.size() - 1; i >= 1; --i) {
      Node wrapper;
      wrapper.kind = Node::Kind::kObject;
      wrapper.line = keys[i].line;
      wrapper.entries.push_back(
          Entry{keys[i].text, keys[i].line, i + 1 < keys.size(), std::move(value)});
      value = std::move(wrapper);
    }
    obj.entries.push_back(Entry{keys[0].text, keys[0].line, keys.size() > 1, std::move(value)});
    return Status::ok();
  }

  Result<Node> parseObject(int depth) {
    const Token& open = take();  // '{'
    if (depth > kMaxHclDepth) return tooDeep(open);
    Node obj;
    obj.kind = Node::Kind::kObject;
    obj.line = open.line;
    Status s = parseItems(obj, depth, false);
    if (!s.isOk()) return s;
    return obj;
  }

  Result<Node> parseList(int depth) {
    const Token& open = take();  // '['
    if (depth > kMaxHclDepth) return tooDeep(open);
    Node list;
    list.kind = Node::Kind::kList;
    list.line = open.line;
    while (true) {
      if (peek().kind == TokenKind::kRBracket) {
        take();
        return list;
      }
      auto item = parseValue(depth + 1);
      if (!item.isOk()) return item.status();
      list.items.push_back(std::move(item).value());
      const Token& sep = peek();
      if (sep.kind == TokenKind::kComma) {
        take();
      } else if (sep.kind != TokenKind::kRBracket) {
        return errorAt(sep, "expected ',' or ']' in list, found " + describe(sep));
      }
    }
  }

  Result<Node> parseValue(int depth) {
    const Token& t = peek();
    if (t.kind == TokenKind::kLBrace) return parseObject(depth);
    if (t.kind == TokenKind::kLBracket) return parseList(depth);
    Node n;
    n.line = t.line;
    switch (t.kind) {
      case TokenKind::kString:
        n.scalar = t.text;
        break;
      case TokenKind::kNumber: {
        auto v = parseNumber(t);
        if (!v.isOk()) return v.status();
        n.scalar = std::move(v).value();
        break;
      }
      case TokenKind::kIdent:
        if (t.text == "true" || t.text == "false") {
          n.scalar = t.text == "true";
          break;
        }
        return errorAt(t, "unexpected " + describe(t) + ", expected a value");
      default:
        return errorAt(t, "unexpected " + describe(t) + ", expected a value");
    }
    take();
    return n;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

class Lowerer {
 public:
  explicit Lowerer(std::map<std::string, int>& lines) : lines_(lines) {}

  json lower(const Node& n, const std::string& ptr) {
    switch (n.kind) {
      case Node::Kind::kScalar:
        return n.scalar;
      case Node::Kind::kList: {
        json out = json::array();
        for (size_t i = 0; i < n.items.size(); ++i) {
          std::string p = appendPointer(ptr, i);
          lines_[p] = n.items[i].line;
          out.push_back(lower(n.items[i], p));
        }
        return out;
      }
      case Node::Kind::kObject: {
        std::vector<const Entry*> entries;
        for (const auto& e : n.entries) entries.push_back(&e);
        return lowerEntries(entries, ptr);
      }
    }
    return json();
  }

 private:
  json lowerEntries(const std::vector<const Entry*>& entries, const std::string& ptr) {
    std::vector<std::pair<std::string, std::vector<const Entry*>>> groups;
    std::unordered_map<std::string, size_t> index;
    for (const Entry* e : entries) {
      auto [it, inserted] = index.emplace(e->key, groups.size());
      if (inserted) groups.emplace_back(e->key, std::vector<const Entry*>{});
      groups[it->second].second.push_back(e);
    }
    json out = json::object();
    for (const auto& [key, group] : groups) {
      std::string p = appendPointer(ptr, key);
      lines_[p] = group.front()->line;
      if (group.size() == 1) {
        out[key] = lower(group.front()->value, p);
        continue;
      }
      bool all_labels = true, all_objects = true;
      for (const Entry* e : group) {
        all_labels = all_labels && e->label_container;
        all_objects = all_objects && e->value.kind == Node::Kind::kObject;
      }
      if (all_labels) {
        // service "a" {} and service "b" {} share one "service" object keyed by label.
        std::vector<const Entry*> merged;
        for (const Entry* e : group) {
          for (const auto& inner : e->value.entries) merged.push_back(&inner);
        }
        out[key] = lowerEntries(merged, p);
      } else if (all_objects) {
        json list = json::array();
        for (size_t i = 0; i < group.size(); ++i) {
          std::string ip = appendPointer(p, i);
          lines_[ip] = group[i]->line;
          list.push_back(lower(group[i]->value, ip));
        }
        out[key] = std::move(list);
      } else {
        lines_[p] = group.back()->line;
        out[key] = lower(group.back()->value, p);
      }
    }
    return out;
  }

  std::map<std::string, int>& lines_;
};

}  // namespace

Result<ParsedDocument> parseHcl(std::string_view text) {
  try {
    auto tokens = tokenizeHcl(text);
    if (!tokens.isOk()) return tokens.status();
    Parser parser(std::move(tokens).value());
    auto root = parser.parseDocument();
    if (!root.isOk()) return root.status();
    ParsedDocument doc;
    doc.value = Lowerer(doc.lines).lower(root.value(), "");
    return doc;
  } catch (const std::exception& e) {  // allocation failure; nothing else throws here
    return internalError(std::string("hcl: ") + e.what());
  }
}

}  // namespace trellis::config
