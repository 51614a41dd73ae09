#pragma once
// Pieces shared by DeltaStream and SotwStream: the order in which types are pushed, and the shape
// of an interest change handed to the Subscription.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xds/resources.h"

namespace trellis::xds {

// Push order. Secrets and clusters first so that listeners never reference what the proxy lacks;
// endpoints right after clusters because clusters cannot finish warming without them; routes last
// since listeners name them.
inline constexpr std::array<std::string_view, 5> kPushOrder = {
    kSecretType, kClusterType, kEndpointType, kListenerType, kRouteType};

// Index into kPushOrder, or nullopt for a type the server does not serve.
std::optional<size_t> typeIndex(std::string_view type_url);

// Whether an empty first subscription means "everything" (legacy wildcard). Only listeners and
// clusters: an empty endpoint or route request means the client wants none.
bool legacyWildcardType(std::string_view type_url);

// A change of what the client wants for one type, forwarded to Subscription::interest.
struct Interest {
  std::string type_url;
  std::vector<std::string> names;  // sorted
  bool wildcard = false;
};

}  // namespace trellis::xds
