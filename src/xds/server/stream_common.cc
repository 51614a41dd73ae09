#include "xds/server/stream_common.h"

namespace trellis::xds {

std::optional<size_t> typeIndex(std::string_view type_url) {
  for (size_t i = 0; i < kPushOrder.size(); ++i) {
    if (kPushOrder[i] == type_url) return i;
  }
  return std::nullopt;
}

bool legacyWildcardType(std::string_view type_url) {
  return type_url == kListenerType || type_url == kClusterType;
}

}  // namespace trellis::xds
