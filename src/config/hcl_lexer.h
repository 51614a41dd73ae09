#pragma once
// Tokenizer for HCL version 1 as Consul's config files use it. Strings and heredocs come out
// decoded (escapes resolved, heredoc indentation removed); numbers keep their text so the parser
// can tell integers from floats. Newlines are not tokens: HCL v1 items need no separator.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trellis::config {

enum class TokenKind {
  kIdent,
  kString,  // quoted string or heredoc, decoded
  kNumber,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kAssign,
  kComma,
  kEof,
};

struct Token {
  TokenKind kind;
  std::string text;
  int line = 0;
  int col = 0;
};

// Tokenizes the whole input, stopping at the first lexical error ("line N, column M: reason").
Result<std::vector<Token>> tokenizeHcl(std::string_view src);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF).
bool isValidUtf8(std::string_view s);

}  // namespace trellis::config
