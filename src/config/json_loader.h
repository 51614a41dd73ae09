#pragma once
// JSON config parser that, unlike nlohmann::json::parse, records the line of every key and list
// element (same ParsedDocument as the HCL parser) so JSON config errors can name file:line.
// Strict RFC 8259 like Go's encoding/json (no comments); duplicate keys: the last one wins.
// Nesting deeper than kMaxJsonDepth is rejected. Errors read "line N, column M: reason".

#include <string_view>

#include "common/status.h"
#include "config/parsed_document.h"

namespace trellis::config {

inline constexpr int kMaxJsonDepth = 64;

Result<ParsedDocument> parseJsonDocument(std::string_view text);

}  // namespace trellis::config
