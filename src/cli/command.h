#pragma once
// What every command implementation shares: its I/O context, flag parsing with Consul's usage
// behaviour, and the mapping of HTTP failures onto Consul's messages and exit codes.
// Commands are plain functions listed in the table in cli.cc.

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/flags.h"

namespace trellis::cli {

struct Context {
  const Env& env;
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  const HclParser* hcl = nullptr;  // may be empty
};

using CommandFn = int (*)(const std::vector<std::string>& args, Context& ctx);

struct CommandSpec {
  std::string_view name;  // "kv get"
  std::string_view synopsis;
  CommandFn run;
};

// Parses `args`; on failure prints the error and usage to err and sets *exitCode (0 for -h).
// `help` is the command's usage text ("Usage: trellis kv get [options] KEY\n\n  ...").
bool parseFlags(FlagSet& flags, const std::vector<std::string>& args, Context& ctx,
                std::string_view help, int* exitCode);

// Builds the client from the HTTP flags; prints "Error connecting to Trellis agent: ..." on
// failure (a malformed address, an unreadable token file).
std::optional<ApiClient> makeClient(const HttpFlags& flags, Context& ctx);

// Prints why a call failed and returns 1: a transport failure as "Error connecting to Trellis
// agent: <reason>", an HTTP answer as "<prefix>: Unexpected response code: <code> (<body>)".
int reportFailure(Context& ctx, std::string_view prefix,
                  const Result<http::HttpResponse>& response);

// True when the call reached the agent and got a 2xx (or 404 when allowed).
bool callSucceeded(const Result<http::HttpResponse>& response, bool allow404 = false);

// Parses a JSON body without throwing.
std::optional<nlohmann::json> parseJson(std::string_view body);

// Reads "@file" or "-" (stdin) the way Consul's LoadDataSource does; other text is returned as is.
Result<std::string> loadDataSource(const std::string& value, Context& ctx);

// Reads a whole file; errors read like Go's os.ReadFile ("open x: no such file or directory").
Result<std::string> readFileGo(const std::string& path);

// Reads a file path or "-" (stdin), like Consul's LoadDataSourceNoRaw. Errors carry Go's wording
// ("Failed to read file: open x.hcl: no such file or directory").
Result<std::string> loadFileOrStdin(const std::string& value, Context& ctx);

// Decodes HCL (through ctx.hcl) or JSON text into a JSON value: text whose first non-blank
// character is '{' is JSON, anything else HCL, as HCL v1 accepts both.
Result<nlohmann::json> decodeHclOrJson(std::string_view text, Context& ctx);

// Command entry points (one file each, listed in cli.cc).
int runMembers(const std::vector<std::string>& args, Context& ctx);
int runKvGet(const std::vector<std::string>& args, Context& ctx);
int runKvPut(const std::vector<std::string>& args, Context& ctx);
int runKvDelete(const std::vector<std::string>& args, Context& ctx);
int runCatalogDatacenters(const std::vector<std::string>& args, Context& ctx);
int runCatalogNodes(const std::vector<std::string>& args, Context& ctx);
int runCatalogServices(const std::vector<std::string>& args, Context& ctx);
int runServicesRegister(const std::vector<std::string>& args, Context& ctx);
int runServicesDeregister(const std::vector<std::string>& args, Context& ctx);
int runLock(const std::vector<std::string>& args, Context& ctx);
int runWatch(const std::vector<std::string>& args, Context& ctx);
int runConfigWrite(const std::vector<std::string>& args, Context& ctx);
int runConfigRead(const std::vector<std::string>& args, Context& ctx);
int runConfigList(const std::vector<std::string>& args, Context& ctx);
int runConfigDelete(const std::vector<std::string>& args, Context& ctx);
int runIntentionCreate(const std::vector<std::string>& args, Context& ctx);
int runIntentionGet(const std::vector<std::string>& args, Context& ctx);
int runIntentionDelete(const std::vector<std::string>& args, Context& ctx);
int runIntentionCheck(const std::vector<std::string>& args, Context& ctx);
int runIntentionMatch(const std::vector<std::string>& args, Context& ctx);
int runIntentionList(const std::vector<std::string>& args, Context& ctx);
int runConnectCaGetConfig(const std::vector<std::string>& args, Context& ctx);
int runConnectCaSetConfig(const std::vector<std::string>& args, Context& ctx);
int runConnectEnvoy(const std::vector<std::string>& args, Context& ctx);
int runConnectProxy(const std::vector<std::string>& args, Context& ctx);

}  // namespace trellis::cli
