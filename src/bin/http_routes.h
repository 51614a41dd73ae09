#pragma once
#include <vector>

#include "api/router.h"

namespace trellis::bin {
// Every HTTP API route, in one readable table (http_routes.cc).
std::vector<api::Route> httpRoutes();
}  // namespace trellis::bin
