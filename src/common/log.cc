#include "common/log.h"

#include <algorithm>
#include <cctype>

namespace trellis {

bool setLogLevel(const std::string& level) {
  std::string l = level;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "trace") spdlog::set_level(spdlog::level::trace);
  else if (l == "debug") spdlog::set_level(spdlog::level::debug);
  else if (l == "info") spdlog::set_level(spdlog::level::info);
  else if (l == "warn" || l == "warning") spdlog::set_level(spdlog::level::warn);
  else if (l == "err" || l == "error") spdlog::set_level(spdlog::level::err);
  else return false;
  return true;
}

}  // namespace trellis
