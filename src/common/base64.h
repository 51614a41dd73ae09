#pragma once
// Standard base64 (RFC 4648, with padding) as Go's encoding/json uses for []byte.

#include <optional>
#include <string>
#include <string_view>

namespace trellis {

std::string base64Encode(std::string_view in);
std::optional<std::string> base64Decode(std::string_view in);

}  // namespace trellis
