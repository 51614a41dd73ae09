#pragma once
// Trellis' command-line interface (everything except `trellis agent` and `trellis version`,
// which src/bin handles). Commands talk to the agent only through its HTTP API, with Consul's
// flags, messages, output formats and exit codes, so scripts written for `consul` keep working.
//
// Threading: run() executes on the caller's thread; `lock` starts two helper threads (session
// renewal, lock monitor) that it joins before returning. `lock` and `watch` install SIGINT and
// SIGTERM handlers while they run.

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::cli {

// True if `name` is a top-level command handled here ("kv", "members", "catalog", ...).
bool isCommand(std::string_view name);

// args[0] is the command name, e.g. {"kv", "put", "a", "b"}. `env` is the process environment
// (CONSUL_HTTP_ADDR, TRELLIS_HTTP_ADDR, CONSUL_HTTP_TOKEN, ...). Returns the exit code.
int run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        std::ostream& out, std::ostream& err);

// Converts HCL text into the JSON value the same file would hold in JSON form. Wired by src/bin
// to the config module's parser; without it, `.hcl` files are rejected.
using HclParser = std::function<Result<nlohmann::json>(std::string_view)>;
void setHclParser(HclParser parser);

}  // namespace trellis::cli
