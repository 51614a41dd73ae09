#pragma once
// go-bexpr keeps every literal as text and converts it to the type of the field it is compared
// with, using Go's strconv rules. These mirror those rules closely enough for filter literals:
// base prefixes (0x, 0o, 0b, leading 0) and digit-separating underscores for integers, Go's
// bool spellings, and decimal/hex/inf/nan floats.

#include <cstdint>
#include <optional>
#include <string_view>

namespace trellis::filter::detail {

std::optional<bool> parseGoBool(std::string_view s);      // strconv.ParseBool
std::optional<int64_t> parseGoInt(std::string_view s);    // strconv.ParseInt(s, 0, 64)
std::optional<uint64_t> parseGoUint(std::string_view s);  // strconv.ParseUint(s, 0, 64)
std::optional<double> parseGoFloat(std::string_view s);   // strconv.ParseFloat(s, 64)

}  // namespace trellis::filter::detail
