#include "filter/coerce.h"

#include <charconv>
#include <limits>
#include <string>
#include <system_error>

namespace trellis::filter::detail {
namespace {

int digitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Unsigned magnitude with Go's base-0 prefix rules. No sign allowed here.
std::optional<uint64_t> parseMagnitude(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  bool prefixed = false;
  bool leadingZero = false;  // "0", "07": the zero itself is a digit
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : (p == 'o' ? 8 : 2);
      s.remove_prefix(2);
      prefixed = true;
    } else {
      base = 8;
      s.remove_prefix(1);
      prefixed = true;
      leadingZero = true;
    }
  }
  // An underscore must sit between digits (a prefix counts as a digit).
  bool prevDigit = prefixed;
  bool sawDigit = false;
  uint64_t value = 0;
  for (char c : s) {
    if (c == '_') {
      if (!prevDigit) return std::nullopt;
      prevDigit = false;
      continue;
    }
    int d = digitValue(c);
    if (d >= base) return std::nullopt;
    if (value > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                    static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    prevDigit = true;
    sawDigit = true;
  }
  if (!prevDigit) return std::nullopt;                 // trailing underscore
  if (!sawDigit && !leadingZero) return std::nullopt;  // "0x" alone
  return value;
}

}  // namespace

std::optional<bool> parseGoBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

std::optional<uint64_t> parseGoUint(std::string_view s) { return parseMagnitude(s); }

std::optional<int64_t> parseGoInt(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto magnitude = parseMagnitude(s);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (*magnitude > kMaxPositive + 1) return std::nullopt;
    if (*magnitude == kMaxPositive + 1) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(*magnitude);
  }
  if (*magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(*magnitude);
}

std::optional<double> parseGoFloat(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // from_chars would accept a second sign; Go does not.
  if (s.empty() || s[0] == '+' || s[0] == '-') return std::nullopt;
  auto format = std::chars_format::general;
  if (s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
    format = std::chars_format::hex;
    s.remove_prefix(2);
    if (s.empty() || s[0] == '+' || s[0] == '-') return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, format);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -value : value;
}

}  // namespace trellis::filter::detail
