// config write / read / list / delete, with the messages of Consul's command/config. Entries are
// sent as the file holds them: the agent accepts any key casing (Kind, kind, snake_case fields),
// so the CLI only needs the kind and name, for its messages.
#include <strings.h>

#include <algorithm>
#include <array>

#include "cli/command.h"
#include "cli/connect_format.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kWriteHelp = R"(Usage: trellis config write [options] <configuration>

  Request a config entry to be created or updated. The configuration
  argument is either a file path or '-' to indicate that the config
  should be read from stdin. The data should be either in HCL or
  JSON form.

      $ trellis config write web.service.hcl
      $ trellis config write -
)";

constexpr std::string_view kReadHelp =
    R"(Usage: trellis config read [options] -kind <config kind> -name <config name>

  Reads the config entry specified by the given kind and name and outputs its
  JSON representation.

      $ trellis config read -kind proxy-defaults -name global
)";

constexpr std::string_view kListHelp = R"(Usage: trellis config list [options] -kind <config kind>

  Lists all of the config entries for a given kind. The -kind parameter
  is required.

      $ trellis config list -kind service-defaults
)";

constexpr std::string_view kDeleteHelp =
    R"(Usage: trellis config delete [options] -kind <kind> -name <name>
Usage: trellis config delete [options] -filename <file>

  Deletes the configuration entry specified by the kind and name.

      $ trellis config delete -kind service-defaults -name web
      $ trellis config delete -filename service-defaults-web.hcl
)";

// The kinds Consul's API client knows (api.MakeConfigEntry); others fail before any request.
constexpr std::array<std::string_view, 20> kKnownKinds = {
    "service-defaults",   "proxy-defaults",          "service-router",
    "service-splitter",   "service-resolver",        "ingress-gateway",
    "terminating-gateway", "service-intentions",     "mesh",
    "exported-services",  "sameness-group",          "api-gateway",
    "bound-api-gateway",  "http-route",              "tcp-route",
    "inline-certificate", "file-system-certificate", "jwt-provider",
    "control-plane-request-limit", "rate-limit-ip-config"};

struct Entry {
  json body;
  std::string kind;
  std::string name;
};

// Consul's ParseConfigEntry: the kind comes from "Kind" or "kind" only; the name is matched in
// any casing (mapstructure), and a mesh entry is always named "mesh".
Result<Entry> parseConfigEntry(const std::string& text, Context& ctx) {
  auto decoded = decodeHclOrJson(text, ctx);
  if (!decoded) {
    return invalidArgument("Failed to decode config entry input: " + decoded.status().message());
  }
  if (!decoded->is_object()) {
    return invalidArgument("Payload does not contain a kind/Kind key at the top level");
  }
  Entry e;
  e.body = std::move(*decoded);
  auto kind = e.body.find("Kind");
  if (kind == e.body.end()) kind = e.body.find("kind");
  if (kind == e.body.end()) {
    return invalidArgument("Payload does not contain a kind/Kind key at the top level");
  }
  if (!kind->is_string()) return invalidArgument("Kind value in payload is not a string");
  e.kind = kind->get<std::string>();
  if (std::find(kKnownKinds.begin(), kKnownKinds.end(), e.kind) == kKnownKinds.end()) {
    return invalidArgument("invalid config entry kind: " + e.kind);
  }
  for (const auto& [key, value] : e.body.items()) {
    if (::strcasecmp(key.c_str(), "name") == 0 && value.is_string()) e.name = value;
  }
  if (e.kind == "mesh") e.name = "mesh";
  return e;
}

Result<Entry> loadConfigEntry(const std::string& source, Context& ctx) {
  auto data = loadFileOrStdin(source, ctx);
  if (!data) return invalidArgument("Failed to load data: " + data.status().message());
  auto entry = parseConfigEntry(*data, ctx);
  if (!entry) {
    return invalidArgument("Failed to decode config entry input: " + entry.status().message());
  }
  return entry;
}

std::string entryPath(const std::string& kind, const std::string& name = {}) {
  std::string path = "/v1/config/" + encodePath(kind);
  if (!name.empty()) path += "/" + encodePath(name);
  return path;
}

bool answeredTrue(const http::HttpResponse& r) { return r.body.find("true") != std::string::npos; }

std::string describe(const Result<http::HttpResponse>& res) {
  return res ? unexpectedResponse(*res) : res.status().message();
}

}  // namespace

int runConfigWrite(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool cas = false;
  uint64_t modifyIndex = 0;
  flags.addBool("cas", &cas,
                "Perform a Check-And-Set operation. Specifying this value also requires the "
                "-modify-index flag to be set. The default value is false.");
  flags.addUint64("modify-index", &modifyIndex,
                  "Unsigned integer representing the ModifyIndex of the config entry. This is "
                  "used in combination with the -cas flag.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kWriteHelp, &code)) return code;
  if (flags.args().size() != 1) {
    ctx.err << "Must provide exactly one positional argument to specify the config entry to "
               "write\n";
    return 1;
  }
  auto data = loadFileOrStdin(flags.args()[0], ctx);
  if (!data) {
    ctx.err << "Failed to load data: " << data.status().message() << "\n";
    return 1;
  }
  auto entry = parseConfigEntry(*data, ctx);
  if (!entry) {
    ctx.err << "Failed to decode config entry input: " << entry.status().message() << "\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.method = "PUT";
  call.read = false;
  call.path = "/v1/config";
  call.body = entry->body.dump();
  if (cas) call.query.add("cas", std::to_string(modifyIndex));
  auto res = client->send(call);
  const std::string id = entry->kind + "/" + entry->name;
  if (!callSucceeded(res)) {
    if (!res) return reportFailure(ctx, "", res);
    ctx.err << "Error writing config entry " << id << ": " << describe(res) << "\n";
    return 1;
  }
  if (!answeredTrue(*res)) {
    ctx.err << "Config entry not updated: " << id << "\n";
    return 1;
  }
  ctx.out << "Config entry written: " << id << "\n";
  return 0;
}

int runConfigRead(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  std::string kind, name;
  flags.addString("kind", &kind, "The kind of configuration to read.");
  flags.addString("name", &name, "The name of configuration to read.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kReadHelp, &code)) return code;
  if (kind.empty()) {
    ctx.err << "Must specify the -kind parameter\n";
    return 1;
  }
  if (name.empty()) {
    ctx.err << "Must specify the -name parameter\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.path = entryPath(kind, name);
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    if (!res) return reportFailure(ctx, "", res);
    ctx.err << "Error reading config entry " << goQuote(kind) << " / " << goQuote(name) << ": "
            << describe(res) << "\n";
    return 1;
  }
  // ordered_json keeps the agent's field order, which is Consul's struct order.
  auto body = OrderedJson::parse(res->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    ctx.err << "Error reading config entry " << goQuote(kind) << " / " << goQuote(name)
            << ": invalid JSON in response\n";
    return 1;
  }
  ctx.out << goJsonIndent(body, "    ") << "\n";
  return 0;
}

int runConfigList(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  std::string kind, filter;
  flags.addString("kind", &kind, "The kind of configurations to list.");
  flags.addString("filter", &filter, "Filter to use with the request.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kListHelp, &code)) return code;
  if (kind.empty()) {
    ctx.err << "Must specify the -kind parameter\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.path = entryPath(kind);
  if (!filter.empty()) call.query.add("filter", filter);
  auto res = client->send(call);
  auto body = res && isSuccess(*res) ? parseJson(res->body) : std::nullopt;
  if (!callSucceeded(res) || !body || !(body->is_array() || body->is_null())) {
    if (!res) return reportFailure(ctx, "", res);
    ctx.err << "Error listing config entries for kind " << goQuote(kind) << ": "
            << (isSuccess(*res) ? "invalid JSON in response" : describe(res)) << "\n";
    return 1;
  }
  for (const auto& e : body->is_array() ? *body : json::array()) {
    if (!e.is_object()) continue;
    std::string name = kind == "mesh" ? "mesh" : e.value("Name", "");
    ctx.out << name << "\n";
  }
  return 0;
}

int runConfigDelete(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  std::string kind, name, filename;
  bool cas = false;
  uint64_t modifyIndex = 0;
  flags.addString("filename", &filename, "The filename of the config entry to delete");
  flags.addString("kind", &kind, "The kind of configuration to delete.");
  flags.addString("name", &name, "The name of configuration to delete.");
  flags.addBool("cas", &cas,
                "Perform a Check-And-Set operation. Specifying this value also requires the "
                "-modify-index flag to be set. The default value is false.");
  flags.addUint64("modify-index", &modifyIndex,
                  "Unsigned integer representing the ModifyIndex of the config entry. This is "
                  "used in combination with the -cas flag.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kDeleteHelp, &code)) return code;
  const int given = !filename.empty() + !kind.empty() + !name.empty();
  std::string problem;
  if (given == 0) {
    problem = "Must specify the -kind or -filename parameter";
  } else if (!filename.empty() && given > 1) {
    problem = "filename can't be used with kind or name";
  } else if (filename.empty() && kind.empty()) {
    problem = "Must specify the -kind parameter";
  } else if (filename.empty() && name.empty()) {
    problem = "Must specify the -name parameter";
  } else if (cas && modifyIndex == 0) {
    problem = "Must specify a -modify-index greater than 0 with -cas";
  } else if (modifyIndex != 0 && !cas) {
    problem = "Cannot specify -modify-index without -cas";
  }
  if (!problem.empty()) {
    ctx.err << problem << "\n";
    return 1;
  }
  if (!filename.empty()) {
    auto entry = loadConfigEntry(filename, ctx);
    if (!entry) {
      ctx.err << entry.status().message() << "\n";
      return 1;
    }
    kind = entry->kind;
    name = entry->name;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.method = "DELETE";
  call.read = false;
  call.path = entryPath(kind, name);
  if (cas) call.query.add("cas", std::to_string(modifyIndex));
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    if (!res) return reportFailure(ctx, "", res);
    ctx.err << "Error deleting config entry " << kind << "/" << name << ": " << describe(res)
            << "\n";
    return 1;
  }
  if (cas && !answeredTrue(*res)) {
    ctx.err << "Config entry not deleted: " << kind << "/" << name << "\n";
    return 1;
  }
  ctx.out << "Config entry deleted: " << kind << "/" << name << "\n";
  return 0;
}

}  // namespace trellis::cli
