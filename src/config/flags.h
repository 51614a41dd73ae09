#pragma once
// Command-line flags of `trellis agent`, in Consul's style: -flag and --flag, -flag=value and
// -flag value, booleans as -dev or -dev=false (a bare boolean never takes the next argument).
// Flags that set config keys become one more config source (`overrides`, in canonical key form)
// so the same schema validates them and the same merge applies them last.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::config {

struct ConfigPath {
  std::string path;
  bool explicit_file = false;  // -config-file (a directory given there is loaded as a dir)
};

struct AgentFlags {
  bool dev = false;
  std::vector<ConfigPath> config_paths;  // -config-file and -config-dir, in the order given
  std::optional<std::string> config_format;
  std::vector<std::string> hcl_snippets;
  nlohmann::json overrides = nlohmann::json::object();
};

Result<AgentFlags> parseAgentFlags(const std::vector<std::string>& args);

}  // namespace trellis::config
