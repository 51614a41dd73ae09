#include "bin/version_main.h"

#include <iostream>

#include "api/version.h"

namespace trellis::bin {

int runVersion(const std::vector<std::string>& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "-format=json" || a == "--format=json") {
      json = true;
    } else if (a == "-format" || a == "--format") {
      continue;
    } else if (a == "json") {
      json = true;
    } else if (a != "-format=text" && a != "--format=text" && a != "text") {
      std::cerr << "Usage: trellis version [-format=<text|json>]\n";
      return 1;
    }
  }
  if (json) {
    // Version is the Consul API generation Trellis matches, so tools that check it keep working.
    std::cout << "{\n    \"Version\": \"" << api::kConsulCompatVersion << "\",\n"
              << "    \"Revision\": \"trellis\",\n    \"Prerelease\": \"\",\n"
              << "    \"FullVersion\": \"" << api::kConsulCompatVersion << "\",\n"
              << "    \"RPCProtocol\": 2,\n"
              << "    \"TrellisVersion\": \"" << TRELLIS_VERSION << "\"\n}\n";
  } else {
    std::cout << "Trellis v" << TRELLIS_VERSION << " (Consul API v"
              << api::kConsulCompatVersion << ")\n"
              << "Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use "
                 "protocol >2 when speaking to compatible agents)\n";
  }
  return 0;
}

}  // namespace trellis::bin
