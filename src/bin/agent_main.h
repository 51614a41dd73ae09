#pragma once
#include <string>
#include <vector>

namespace trellis::bin {
// `trellis agent ...`: loads the configuration, builds the agent and serves until a signal.
int runAgent(const std::vector<std::string>& args);
}  // namespace trellis::bin
