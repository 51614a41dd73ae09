#pragma once
// Parser for HCL version 1 (hashicorp/hcl v1 semantics), the format of Consul's .hcl config
// files. Produces JSON the way Consul's decoder sees it:
//   key = value, key = { ... }, key { ... }     -> {"key": ...}
//   key "a" "b" { ... }                         -> {"key": {"a": {"b": {...}}}}
//   a key repeated with object values           -> {"key": [{...}, {...}]}  (service blocks)
//   a key repeated with other values            -> the last one wins
// Strings support Go escapes and heredocs (<<EOF, <<-EOF); numbers are int64 (decimal, 0x hex,
// leading-0 octal, negative) or double; true/false are booleans. Comments: #, //, /* */.
// Nesting (objects, lists and block labels) is bounded by kMaxHclDepth so that hostile input
// cannot exhaust the stack. Errors read "line N, column M: reason".

#include <string_view>

#include "common/status.h"
#include "config/parsed_document.h"

namespace trellis::config {

inline constexpr int kMaxHclDepth = 64;

Result<ParsedDocument> parseHcl(std::string_view text);

}  // namespace trellis::config
