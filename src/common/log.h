#pragma once
// Logging goes through spdlog's default logger, configured once in src/bin. Modules log with
// TLOG_INFO(...) etc. (fmt syntax) so the sink and level stay a composition-root decision.

#include <spdlog/spdlog.h>

#define TLOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define TLOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define TLOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define TLOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define TLOG_ERROR(...) ::spdlog::error(__VA_ARGS__)

namespace trellis {
// Accepts Consul's level names (trace, debug, info, warn, err/error) case-insensitively.
bool setLogLevel(const std::string& level);
}  // namespace trellis
