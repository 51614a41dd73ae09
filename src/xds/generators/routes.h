#pragma once
// RouteConfigurations: the RDS ones for HTTP upstreams and the inline ones of the public
// listener and proxyless api_listeners share this shape.

#include <string>
#include <string_view>

#include "envoy/config/route/v3/route.pb.h"

namespace trellis::xds {

// One virtual host named `name` for every domain, one route `prefix` -> `cluster`.
envoy::config::route::v3::RouteConfiguration singleRouteConfig(const std::string& name,
                                                               std::string_view prefix,
                                                               const std::string& cluster);

}  // namespace trellis::xds
