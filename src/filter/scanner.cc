#include "filter/scanner.h"

#include <cstdint>
#include <cstdio>

namespace trellis::filter::detail {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentifierChar(char c) { return isIdentifierStart(c) || isDigit(c) || c == '_'; }

int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// go-bexpr's pointer segments allow letters, digits and -_.~| (we take any non-ASCII byte as
// part of a letter).
bool isPointerChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || isIdentifierChar(c) || c == '-' || c == '.' || c == '~' || c == '|';
}

}  // namespace

bool isIdentifierStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

void Scanner::skipSpace() {
  while (!atEnd() && isSpace(src_[pos_])) ++pos_;
}

char Scanner::peek(size_t ahead) const {
  return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
}

std::string_view Scanner::peekWord() const {
  if (atEnd() || !isIdentifierStart(src_[pos_])) return {};
  size_t end = pos_ + 1;
  while (end < src_.size() && isIdentifierChar(src_[end])) ++end;
  return src_.substr(pos_, end - pos_);
}

bool Scanner::acceptWord(std::string_view word) {
  skipSpace();
  if (peekWord() != word) return false;
  pos_ += word.size();
  return true;
}

bool Scanner::scanIdentifier(std::string& out) {
  std::string_view word = peekWord();
  if (word.empty()) return fail(pos_, "expected a field name, found " + describe(pos_));
  out.assign(word);
  pos_ += word.size();
  return true;
}

bool Scanner::scanString(std::string& out) {
  const size_t start = pos_;
  const char quote = src_[pos_++];
  out.clear();
  while (!atEnd()) {
    char c = src_[pos_];
    if (c == quote) {
      ++pos_;
      return true;
    }
    if (quote == '"' && c == '\\') {
      if (pos_ + 1 >= src_.size()) break;
      if (!scanEscape(out)) return false;
      continue;
    }
    if (quote == '`' && c == '\r') {  // Go drops carriage returns from raw strings
      ++pos_;
      continue;
    }
    out += c;
    ++pos_;
  }
  return fail(start, "unterminated string literal");
}

bool Scanner::scanEscape(std::string& out) {
  const size_t start = pos_;
  char c = peek(1);
  pos_ += 2;
  // Go's one-letter escapes, as pairs of (letter, byte).
  constexpr std::string_view kSimple = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''";
  for (size_t i = 0; i < kSimple.size(); i += 2) {
    if (kSimple[i] == c) {
      out += kSimple[i + 1];
      return true;
    }
  }
  if (c >= '0' && c <= '7') {
    uint32_t value = static_cast<uint32_t>(c - '0');
    for (int i = 0; i < 2; ++i) {
      char d = peek();
      if (d < '0' || d > '7') return fail(start, "invalid octal escape in string literal");
      value = value * 8 + static_cast<uint32_t>(d - '0');
      ++pos_;
    }
    if (value > 0xFF) return fail(start, "octal escape value above 255 in string literal");
    out += static_cast<char>(value);
    return true;
  }
  int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
  if (digits == 0) {
    return fail(start, "invalid escape sequence " + describe(start + 1) + " in string literal");
  }
  uint32_t value = 0;
  for (int i = 0; i < digits; ++i) {
    int h = hexValue(peek());
    if (h < 0) return fail(start, "invalid hex escape in string literal");
    value = value * 16 + static_cast<uint32_t>(h);
    ++pos_;
  }
  if (c == 'x') {
    out += static_cast<char>(value);
  } else if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return fail(start, "invalid Unicode code point in string literal");
  } else {
    appendUtf8(out, value);
  }
  return true;
}

bool Scanner::scanNumber(std::string& out) {
  const size_t start = pos_;
  if (peek() == '-') ++pos_;
  if (peek() == '0') {
    ++pos_;
  } else if (isDigit(peek())) {
    while (isDigit(peek())) ++pos_;
  } else {
    return fail(start, "invalid number literal");
  }
  if (peek() == '.' && isDigit(peek(1))) {
    ++pos_;
    while (isDigit(peek())) ++pos_;
  }
  // Like go-bexpr, a number must be followed by whitespace, ')' or the end.
  if (!atEnd() && !isSpace(peek()) && peek() != ')') {
    return fail(start, "invalid number literal");
  }
  out.assign(src_.substr(start, pos_ - start));
  return true;
}

bool Scanner::fail(size_t pos, std::string_view reason, std::string_view hint) {
  if (error_.isOk()) {
    error_ = invalidArgument(std::string(reason) + " at position " + std::to_string(pos + 1) +
                             std::string(hint));
  }
  return false;
}

std::string Scanner::describe(size_t pos) const {
  if (pos >= src_.size()) return "end of expression";
  if (isIdentifierStart(src_[pos])) {
    size_t end = pos + 1;
    while (end < src_.size() && isIdentifierChar(src_[end]) && end - pos < 32) ++end;
    return "'" + std::string(src_.substr(pos, end - pos)) + "'";
  }
  auto u = static_cast<unsigned char>(src_[pos]);
  if (u < 0x20 || u >= 0x7F) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02X", u);
    return buf;
  }
  return "'" + std::string(1, src_[pos]) + "'";
}

std::optional<std::vector<std::string>> parseJsonPointer(std::string_view text) {
  std::vector<std::string> path;
  if (text.empty()) return path;
  if (text[0] != '/') return std::nullopt;
  size_t i = 0;
  while (i < text.size()) {
    ++i;  // the '/'
    std::string segment;
    while (i < text.size() && text[i] != '/') {
      if (!isPointerChar(text[i])) return std::nullopt;
      if (text[i] == '~' && i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
        segment += text[i + 1] == '0' ? '~' : '/';
        i += 2;
        continue;
      }
      segment += text[i++];
    }
    if (segment.empty()) return std::nullopt;
    path.push_back(std::move(segment));
  }
  return path;
}

}  // namespace trellis::filter::detail
