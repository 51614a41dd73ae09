// connect ca get-config / set-config, with the messages of Consul's command/connect/ca. Both
// pass the configuration through the shape of Consul's api.CAConfig (see asCaConfig), so the
// printed JSON and the request body are what the Go client would produce.
#include "cli/command.h"
#include "cli/connect_format.h"

namespace trellis::cli {
namespace {

constexpr std::string_view kGetHelp = R"(Usage: trellis connect ca get-config [options]

  Displays the current Connect Certificate Authority (CA) configuration.
)";

constexpr std::string_view kSetHelp = R"(Usage: trellis connect ca set-config [options]

  Modifies the current Connect Certificate Authority (CA) configuration.

      $ trellis connect ca set-config -config-file ca.json
)";

std::string describe(const Result<http::HttpResponse>& res) {
  return res ? unexpectedResponse(*res) : res.status().message();
}

}  // namespace

int runConnectCaGetConfig(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  int code = 0;
  if (!parseFlags(flags, args, ctx, kGetHelp, &code)) return code;
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.path = "/v1/connect/ca/configuration";
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    ctx.err << "Error querying CA configuration: " << describe(res) << "\n";
    return 1;
  }
  auto body = parseJson(res->body);
  auto config = body ? asCaConfig(*body) : Result<OrderedJson>(invalidArgument("invalid JSON"));
  if (!config) {
    ctx.err << "Error querying CA configuration: " << config.status().message() << "\n";
    return 1;
  }
  ctx.out << goJsonIndent(*config, "\t") << "\n";
  return 0;
}

int runConnectCaSetConfig(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  std::string configFile;
  bool force = false;
  flags.addString("config-file", &configFile, "The path to the config file to use.");
  flags.addBool("force-without-cross-signing", &force,
                "Indicates that the CA reconfiguration should go ahead even if the current CA "
                "is unable to cross sign certificates. This risks temporary connection failures "
                "during the rollout as new leafs will be rejected by proxies that have not yet "
                "observed the new root cert but is the only option if a CA that doesn't "
                "support cross signing needs to be reconfigured or migrated away from.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kSetHelp, &code)) return code;
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  if (configFile.empty()) {
    ctx.err << "The -config-file flag is required\n";
    return 1;
  }
  auto data = readFileGo(configFile);
  if (!data) {
    ctx.err << "Error reading config file: " << data.status().message() << "\n";
    return 1;
  }
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(*data);
  } catch (const nlohmann::json::exception& e) {
    ctx.err << "Error parsing config file: " << e.what() << "\n";
    return 1;
  }
  auto config = asCaConfig(parsed);
  if (!config) {
    ctx.err << "Error parsing config file: " << config.status().message() << "\n";
    return 1;
  }
  // Like Consul, the flag decides, whatever the file says.
  (*config)["ForceWithoutCrossSigning"] = force;
  ApiCall call;
  call.method = "PUT";
  call.read = false;
  call.path = "/v1/connect/ca/configuration";
  call.body = config->dump();
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    ctx.err << "Error setting CA configuration: " << describe(res) << "\n";
    return 1;
  }
  ctx.out << "Configuration updated!\n";
  return 0;
}

}  // namespace trellis::cli
