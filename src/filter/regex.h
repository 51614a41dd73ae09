#pragma once
// `matches` patterns. Consul evaluates them with Go's regexp (RE2 syntax, linear time); we use
// std::regex in ECMAScript mode, whose syntax overlaps for the patterns filters use (anchors,
// classes, alternation, counted repeats). To keep RE2's guarantees on hostile patterns we compile
// in libstdc++'s polynomial mode (no backreferences, breadth-first matching), reject repeat
// counts above 1000 like RE2 does, and bound the expanded automaton size before compiling.
// A leading `(?i)` (RE2's case-insensitive flag) is honoured; other RE2-only syntax is rejected.

#include <regex>
#include <string_view>

#include "common/status.h"

namespace trellis::filter::detail {

// Errors are kInvalidArgument with a reason but no position (the caller adds it).
Result<std::regex> compileRegex(std::string_view pattern);

// Unanchored search, like Go's Regexp.MatchString, in one pass over the subject. Only for
// regexes from compileRegex(). Never throws; an executor failure is a non-match.
bool regexSearch(const std::regex& re, std::string_view subject) noexcept;

}  // namespace trellis::filter::detail
