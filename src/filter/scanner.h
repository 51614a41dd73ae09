#pragma once
// Character-level half of the filter parser: position tracking, the first error, keywords and
// literals (go-bexpr's quoted strings, numbers, identifiers and JSON-pointer selectors).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trellis::filter::detail {

class Scanner {
 public:
  explicit Scanner(std::string_view src) : src_(src) {}

  void skipSpace();
  bool atEnd() const { return pos_ >= src_.size(); }
  char peek(size_t ahead = 0) const;  // '\0' past the end
  size_t pos() const { return pos_; }
  void advance(size_t n) { pos_ += n; }

  // The identifier at the current position (no whitespace skipped), or empty.
  std::string_view peekWord() const;
  // Skips whitespace, then consumes `word` if it is the whole identifier there.
  bool acceptWord(std::string_view word);

  // Literals; each expects to start on its first character and records an error on failure.
  bool scanIdentifier(std::string& out);
  bool scanString(std::string& out);  // "..." with Go escapes, or `...` raw
  bool scanNumber(std::string& out);  // -?(0|[1-9][0-9]*)(\.[0-9]+)? kept as written

  // Records the first error as "<reason> at position N<hint>" (1-based); always returns false.
  bool fail(size_t pos, std::string_view reason, std::string_view hint = {});
  // "'word'", "'c'" or "end of expression", for messages.
  std::string describe(size_t pos) const;
  const Status& error() const { return error_; }

 private:
  bool scanEscape(std::string& out);

  std::string_view src_;
  size_t pos_ = 0;
  Status error_;
};

bool isIdentifierStart(char c);

// Splits a go-bexpr JSON-pointer selector ("/Service/Meta/env"; "" is the element itself) into
// unescaped segments. nullopt when the text is not such a pointer.
std::optional<std::vector<std::string>> parseJsonPointer(std::string_view text);

}  // namespace trellis::filter::detail
