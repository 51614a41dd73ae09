#pragma once
// Random (version 4) UUIDs for session IDs, node IDs and event IDs.

#include <random>
#include <string>
#include <string_view>

namespace trellis {

std::string newUuid();
bool isUuid(std::string_view s);

}  // namespace trellis
