#include "config/hcl_lexer.h"

#include <cstdint>

namespace trellis::config {
namespace {

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c) || c == '-' || c == '.'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      Status s = skipSpaceAndComments();
      if (!s.isOk()) return s;
      Token t;
      t.line = line_;
      t.col = col();
      if (pos_ >= src_.size()) {
        t.kind = TokenKind::kEof;
        tokens.push_back(std::move(t));
        return tokens;
      }
      char c = src_[pos_];
      switch (c) {
        case '{':
          t.kind = TokenKind::kLBrace;
          advance();
          break;
        case '}':
          t.kind = TokenKind::kRBrace;
          advance();
          break;
        case '[':
          t.kind = TokenKind::kLBracket;
          advance();
          break;
        case ']':
          t.kind = TokenKind::kRBracket;
          advance();
          break;
        case '=':
          t.kind = TokenKind::kAssign;
          advance();
          break;
        case ',':
          t.kind = TokenKind::kComma;
          advance();
          break;
        case '"': {
          t.kind = TokenKind::kString;
          s = scanString(t.text);
          if (!s.isOk()) return s;
          break;
        }
        case '<': {
          t.kind = TokenKind::kString;
          s = scanHeredoc(t.text);
          if (!s.isOk()) return s;
          break;
        }
        default:
          if (isDigit(c) || (c == '-' && pos_ + 1 < src_.size() && isDigit(src_[pos_ + 1]))) {
            t.kind = TokenKind::kNumber;
            s = scanNumber(t.text);
            if (!s.isOk()) return s;
          } else if (isIdentStart(c)) {
            t.kind = TokenKind::kIdent;
            size_t start = pos_;
            while (pos_ < src_.size() && isIdentChar(src_[pos_])) advance();
            t.text = std::string(src_.substr(start, pos_ - start));
          } else {
            return errorHere("unexpected character " + describe(c));
          }
      }
      tokens.push_back(std::move(t));
    }
  }

 private:
  static std::string describe(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
    static const char kHex[] = "0123456789abcdef";
    return std::string("0x") + kHex[u >> 4] + kHex[u & 0xF];
  }

  int col() const { return static_cast<int>(pos_ - line_start_) + 1; }

  Status errorAt(int line, int col, const std::string& reason) const {
    return invalidArgument("line " + std::to_string(line) + ", column " + std::to_string(col) +
                           ": " + reason);
  }
  Status errorHere(const std::string& reason) const { return errorAt(line_, col(), reason); }

  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  bool startsWith(std::string_view s) const { return src_.substr(pos_, s.size()) == s; }

  Status skipSpaceAndComments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '#' || startsWith("//")) {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      } else if (startsWith("/*")) {
        int line = line_, column = col();
        advance();
        advance();
        while (pos_ < src_.size() && !startsWith("*/")) advance();
        if (pos_ >= src_.size()) return errorAt(line, column, "comment not terminated");
        advance();
        advance();
      } else {
        break;
      }
    }
    return Status::ok();
  }

  Status scanNumber(std::string& out) {
    size_t start = pos_;
    if (src_[pos_] == '-') advance();
    if (startsWith("0x") || startsWith("0X")) {
      advance();
      advance();
      if (pos_ >= src_.size() || !isHex(src_[pos_])) return errorHere("malformed hex number");
      while (pos_ < src_.size() && isHex(src_[pos_])) advance();
    } else {
      while (pos_ < src_.size() && isDigit(src_[pos_])) advance();
      if (pos_ < src_.size() && src_[pos_] == '.') {
        advance();
        if (pos_ >= src_.size() || !isDigit(src_[pos_])) return errorHere("malformed number");
        while (pos_ < src_.size() && isDigit(src_[pos_])) advance();
      }
      if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
        advance();
        if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) advance();
        if (pos_ >= src_.size() || !isDigit(src_[pos_])) return errorHere("malformed exponent");
        while (pos_ < src_.size() && isDigit(src_[pos_])) advance();
      }
    }
    if (pos_ < src_.size() && isIdentChar(src_[pos_])) {
      return errorHere("unexpected character " + describe(src_[pos_]) + " in number");
    }
    out = std::string(src_.substr(start, pos_ - start));
    return Status::ok();
  }

  // Reads `n` hex digits as one code unit; used by \x, \u and \U.
  Status readHex(int n, uint32_t& value) {
    value = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= src_.size() || !isHex(src_[pos_])) return errorHere("invalid escape sequence");
      value = value * 16 + static_cast<uint32_t>(hexValue(src_[pos_]));
      advance();
    }
    return Status::ok();
  }

  Status scanEscape(std::string& out) {
    int line = line_, column = col();
    advance();  // the backslash
    if (pos_ >= src_.size()) return errorAt(line, column, "string literal not terminated");
    char c = src_[pos_];
    switch (c) {
      case 'a':
        out.push_back('\a');
        advance();
        return Status::ok();
      case 'b':
        out.push_back('\b');
        advance();
        return Status::ok();
      case 'f':
        out.push_back('\f');
        advance();
        return Status::ok();
      case 'n':
        out.push_back('\n');
        advance();
        return Status::ok();
      case 'r':
        out.push_back('\r');
        advance();
        return Status::ok();
      case 't':
        out.push_back('\t');
        advance();
        return Status::ok();
      case 'v':
        out.push_back('\v');
        advance();
        return Status::ok();
      case '\\':
        out.push_back('\\');
        advance();
        return Status::ok();
      case '"':
        out.push_back('"');
        advance();
        return Status::ok();
      default:
        break;
    }
    uint32_t v = 0;
    if (c == 'x') {
      advance();
      Status s = readHex(2, v);
      if (!s.isOk()) return s;
      out.push_back(static_cast<char>(v));
      return Status::ok();
    }
    if (c >= '0' && c <= '7') {
      for (int i = 0; i < 3; ++i) {
        if (pos_ >= src_.size() || src_[pos_] < '0' || src_[pos_] > '7') {
          return errorAt(line, column, "invalid octal escape");
        }
        v = v * 8 + static_cast<uint32_t>(src_[pos_] - '0');
        advance();
      }
      if (v > 255) return errorAt(line, column, "invalid octal escape");
      out.push_back(static_cast<char>(v));
      return Status::ok();
    }
    if (c == 'u' || c == 'U') {
      advance();
      Status s = readHex(c == 'u' ? 4 : 8, v);
      if (!s.isOk()) return s;
      // A UTF-16 surrogate pair written as two \u escapes is one code point.
      if (v >= 0xD800 && v <= 0xDBFF && startsWith("\\u")) {
        advance();
        advance();
        uint32_t low = 0;
        s = readHex(4, low);
        if (!s.isOk()) return s;
        if (low < 0xDC00 || low > 0xDFFF) return errorAt(line, column, "invalid unicode escape");
        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
      }
      if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
        return errorAt(line, column, "invalid unicode escape");
      }
      appendUtf8(out, v);
      return Status::ok();
    }
    return errorAt(line, column, "unknown escape sequence \\" + std::string(1, c));
  }

  // HCL v1 keeps "${ ... }" interpolations verbatim; inside them quotes need no escaping.
  Status scanString(std::string& out) {
    int line = line_, column = col();
    advance();  // opening quote
    int braces = 0;
    while (true) {
      if (pos_ >= src_.size()) return errorAt(line, column, "string literal not terminated");
      char c = src_[pos_];
      if (braces == 0) {
        if (c == '"') {
          advance();
          break;
        }
        if (c == '\n') return errorAt(line, column, "string literal not terminated");
        if (c == '\\') {
          Status s = scanEscape(out);
          if (!s.isOk()) return s;
          continue;
        }
        if (startsWith("${")) {
          out += "${";
          advance();
          advance();
          braces = 1;
          continue;
        }
      } else if (c == '{') {
        ++braces;
      } else if (c == '}') {
        --braces;
      }
      out.push_back(c);
      advance();
    }
    if (!isValidUtf8(out)) return errorAt(line, column, "string is not valid UTF-8");
    return Status::ok();
  }

  // <<MARKER or <<-MARKER, then lines up to one that holds only the marker. With '-', the
  // terminator's indentation is removed from every line, provided all lines carry it.
  Status scanHeredoc(std::string& out) {
    int line = line_, column = col();
    if (!startsWith("<<")) return errorHere("unexpected character '<'");
    advance();
    advance();
    bool indented = false;
    if (pos_ < src_.size() && src_[pos_] == '-') {
      indented = true;
      advance();
    }
    size_t mstart = pos_;
    while (pos_ < src_.size() && isIdentChar(src_[pos_])) advance();
    std::string marker(src_.substr(mstart, pos_ - mstart));
    if (marker.empty()) return errorAt(line, column, "heredoc needs a marker after <<");
    if (pos_ < src_.size() && src_[pos_] == '\r') advance();
    if (pos_ >= src_.size() || src_[pos_] != '\n') {
      return errorAt(line, column, "heredoc marker must be followed by a newline");
    }
    advance();
    std::vector<std::string> lines;
    std::string indent;
    while (true) {
      if (pos_ >= src_.size()) return errorAt(line, column, "heredoc not terminated");
      size_t start = pos_;
      while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      std::string_view text = src_.substr(start, pos_ - start);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      size_t ws = text.find_first_not_of(" \t");
      if (ws != std::string_view::npos && text.substr(ws) == marker) {
        indent = std::string(text.substr(0, ws));
        break;
      }
      lines.emplace_back(text);
      if (pos_ >= src_.size()) return errorAt(line, column, "heredoc not terminated");
      advance();  // newline
    }
    bool strip = indented && !indent.empty();
    for (const auto& l : lines) {
      if (l.find_first_not_of(" \t") != std::string::npos && l.rfind(indent, 0) != 0) {
        strip = false;
      }
    }
    for (const auto& l : lines) {
      if (strip) {
        out += l.size() >= indent.size() ? l.substr(indent.size()) : std::string();
      } else {
        out += l;
      }
      out.push_back('\n');
    }
    if (!isValidUtf8(out)) return errorAt(line, column, "heredoc is not valid UTF-8");
    return Status::ok();
  }

  std::string_view src_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Result<std::vector<Token>> tokenizeHcl(std::string_view src) { return Lexer(src).run(); }

}  // namespace trellis::config
