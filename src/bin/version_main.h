#pragma once
#include <string>
#include <vector>

namespace trellis::bin {
// `trellis version [-format=json]`.
int runVersion(const std::vector<std::string>& args);
}  // namespace trellis::bin
