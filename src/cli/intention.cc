// intention create / get / delete, with the messages of Consul's command/intention. Intentions
// are addressed by source and destination (/v1/connect/intentions/exact); the one-argument
// forms of get and delete use the legacy ID endpoints.
#include <algorithm>

#include "cli/command.h"
#include "cli/connect_format.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kCreateHelp = R"(Usage: trellis intention create [options] SRC DST
Usage: trellis intention create [options] -file FILE...

  Create one or more intentions. The data can be specified as a single
  source and destination pair or via a set of JSON files when the "-file"
  flag is specified ("-" reads one from stdin).

      $ trellis intention create web db
      $ trellis intention create -file one.json two.json

  An "allow" intention is created by default. To create a "deny" intention,
  specify "-deny". If an intention already exists for the pair, creation
  fails; "-replace" replaces it instead (its metadata and other fields are
  not preserved).
)";

constexpr std::string_view kGetHelp = R"(Usage: trellis intention get [options] SRC DST
Usage: trellis intention get [options] ID

  Read and show the details about an intention. The intention can be looked
  up via an exact source/destination match or via the unique intention ID.

      $ trellis intention get web db
)";

constexpr std::string_view kDeleteHelp = R"(Usage: trellis intention delete [options] SRC DST
Usage: trellis intention delete [options] ID

  Delete an intention. This cannot be reversed. The intention can be looked
  up via an exact source/destination match or via the unique intention ID.

      $ trellis intention delete web db
)";

struct Target {
  std::string partition, ns, name;
};

// "name", "ns/name" or "partition/ns/name", as Consul's ParseIntentionTarget.
Result<Target> parseTarget(const std::string& input) {
  size_t slashes = std::count(input.begin(), input.end(), '/');
  if (slashes > 2) return invalidArgument("input can contain at most two '/'");
  Target t;
  size_t first = input.find('/');
  if (slashes == 0) {
    t.name = input;
  } else if (slashes == 1) {
    t.ns = input.substr(0, first);
    t.name = input.substr(first + 1);
  } else {
    size_t second = input.find('/', first + 1);
    t.partition = input.substr(0, first);
    t.ns = input.substr(first + 1, second - first - 1);
    t.name = input.substr(second + 1);
  }
  return t;
}

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Consul's FormatSource/FormatDestination: "ns/name", or "name" without a namespace.
std::string exactName(const json& ixn, const char* nsKey, const char* nameKey) {
  std::string ns = str(ixn, nsKey);
  return ns.empty() ? str(ixn, nameKey) : ns + "/" + str(ixn, nameKey);
}

ApiCall exactCall(std::string method, const std::string& source, const std::string& dest) {
  ApiCall call;
  call.method = std::move(method);
  call.read = call.method == "GET";
  call.path = "/v1/connect/intentions/exact";
  call.query.add("source", source).add("destination", dest);
  return call;
}

std::string describe(const Result<http::HttpResponse>& res) {
  return res ? unexpectedResponse(*res) : res.status().message();
}

Result<std::vector<json>> intentionsFromFiles(const std::vector<std::string>& paths,
                                              Context& ctx) {
  std::vector<json> out;
  for (const auto& path : paths) {
    auto data = loadFileOrStdin(path, ctx);
    if (!data) return data.status();
    auto ixn = parseJson(*data);
    if (!ixn || !ixn->is_object()) return invalidArgument("invalid JSON in " + path);
    auto perms = ixn->find("Permissions");
    if (perms != ixn->end() && perms->is_array() && !perms->empty()) {
      return invalidArgument("cannot create L7 intention from file " + goQuote(path) +
                             " using this CLI; use 'trellis config write' instead");
    }
    out.push_back(std::move(*ixn));
  }
  return out;
}

}  // namespace

int runIntentionCreate(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool allow = false, deny = false, file = false, replace = false;
  std::map<std::string, std::string> meta;
  std::string description;
  flags.addBool("allow", &allow, "Create an intention that allows when matched.");
  flags.addBool("deny", &deny, "Create an intention that denies when matched.");
  flags.addBool("file", &file, "Read intention data from one or more files.");
  flags.addBool("replace", &replace, "Replace matching intentions.");
  flags.addMap("meta", &meta,
               "Metadata to set on the intention, formatted as key=value. This flag may be "
               "specified multiple times to set multiple meta fields.");
  flags.addString("description", &description,
                  "Description of the intention (a Trellis addition to Consul's flags).");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kCreateHelp, &code)) return code;
  if (!allow && !deny) allow = true;
  if (allow && deny) {
    ctx.err << "Only one of -allow or -deny may be specified.\n";
    return 1;
  }
  const auto& rest = flags.args();
  std::vector<json> ixns;
  if (file) {
    auto loaded = intentionsFromFiles(rest, ctx);
    if (!loaded) {
      ctx.err << "Error: " << loaded.status().message() << "\n";
      return 1;
    }
    ixns = std::move(*loaded);
  } else {
    if (rest.size() != 2) {
      ctx.err << "Error: Must specify two arguments: source and destination\n";
      return 1;
    }
    auto src = parseTarget(rest[0]);
    if (!src) {
      ctx.err << "Error: Invalid intention source: " << src.status().message() << "\n";
      return 1;
    }
    auto dst = parseTarget(rest[1]);
    if (!dst) {
      ctx.err << "Error: Invalid intention destination: " << dst.status().message() << "\n";
      return 1;
    }
    json ixn = json::object();
    if (!src->partition.empty()) ixn["SourcePartition"] = src->partition;
    if (!src->ns.empty()) ixn["SourceNS"] = src->ns;
    ixn["SourceName"] = src->name;
    if (!dst->partition.empty()) ixn["DestinationPartition"] = dst->partition;
    if (!dst->ns.empty()) ixn["DestinationNS"] = dst->ns;
    ixn["DestinationName"] = dst->name;
    ixn["SourceType"] = "consul";
    ixn["Action"] = allow ? "allow" : "deny";
    if (!description.empty()) ixn["Description"] = description;
    if (!meta.empty()) ixn["Meta"] = meta;
    ixns.push_back(std::move(ixn));
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  for (const auto& ixn : ixns) {
    const std::string source = exactName(ixn, "SourceNS", "SourceName");
    const std::string dest = exactName(ixn, "DestinationNS", "DestinationName");
    const std::string label = goQuote(intentionString(ixn));
    // The exact endpoint upserts, so the existing intention is looked up first: without
    // -replace it is an error (Consul's "duplicate intention found"), with it a replacement.
    auto existing = client->send(exactCall("GET", source, dest));
    if (!callSucceeded(existing, true)) {
      if (replace) {
        ctx.err << "Error looking up intention for replacement with source " << goQuote(source)
                << " and destination " << goQuote(dest) << ": " << describe(existing) << "\n";
      } else {
        ctx.err << "Error creating intention " << label << ": " << describe(existing) << "\n";
      }
      return 1;
    }
    const bool exists = existing->status != 404;
    if (exists && !replace) {
      auto old = parseJson(existing->body);
      ctx.err << "Error creating intention " << label << ": duplicate intention found: "
              << (old && old->is_object() ? intentionString(*old) : source + " => " + dest)
              << "\n";
      return 1;
    }
    // Meta exists only on legacy (ID-addressed) intentions: the exact endpoint refuses it, so
    // those go through the legacy API, the way Consul's CLI sends every intention.
    const bool legacy = ixn.contains("Meta") && !ixn["Meta"].empty();
    std::string existingId;
    if (exists) {
      auto old = parseJson(existing->body);
      if (old && old->is_object()) existingId = str(*old, "ID");
    }
    ApiCall put;
    if (legacy && exists && !existingId.empty()) {
      put.method = "PUT";
      put.read = false;
      put.path = "/v1/connect/intentions/" + encodeComponent(existingId);
      json withId = ixn;
      withId["ID"] = existingId;
      put.body = withId.dump();
    } else if (legacy && !exists) {
      put.method = "POST";
      put.read = false;
      put.path = "/v1/connect/intentions";
      put.body = ixn.dump();
    } else {
      put = exactCall("PUT", source, dest);
      put.body = ixn.dump();
    }
    auto res = client->send(put);
    if (!callSucceeded(res)) {
      if (exists) {
        ctx.err << "Error replacing intention with source " << goQuote(source)
                << " and destination " << goQuote(dest) << ": " << describe(res) << "\n";
      } else {
        ctx.err << "Error creating intention " << label << ": " << describe(res) << "\n";
      }
      return 1;
    }
    // Consul reports creations only; a replacement is silent.
    if (!exists) ctx.out << "Created: " << intentionString(ixn) << "\n";
  }
  return 0;
}

int runIntentionGet(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  int code = 0;
  if (!parseFlags(flags, args, ctx, kGetHelp, &code)) return code;
  const auto& rest = flags.args();
  if (rest.size() != 1 && rest.size() != 2) {
    ctx.err << "command requires exactly 1 or 2 arguments\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  if (rest.size() == 1) {
    call.path = "/v1/connect/intentions/" + encodeComponent(rest[0]);
  } else {
    call = exactCall("GET", rest[0], rest[1]);
  }
  auto res = client->send(call);
  if (!callSucceeded(res, true)) {
    ctx.err << "Error reading the intention: " << describe(res) << "\n";
    return 1;
  }
  if (res->status == 404) {
    if (rest.size() == 1) {
      ctx.err << "Intention not found with ID " << goQuote(rest[0]) << "\n";
    } else {
      ctx.err << "Intention not found with source " << goQuote(rest[0]) << " and destination "
              << goQuote(rest[1]) << "\n";
    }
    return 1;
  }
  auto ixn = parseJson(res->body);
  if (!ixn || !ixn->is_object()) {
    ctx.err << "Error reading the intention: invalid JSON in response\n";
    return 1;
  }
  ctx.out << formatIntentionDetail(*ixn) << "\n";
  return 0;
}

int runIntentionDelete(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  int code = 0;
  if (!parseFlags(flags, args, ctx, kDeleteHelp, &code)) return code;
  const auto& rest = flags.args();
  if (rest.size() != 1 && rest.size() != 2) {
    ctx.err << "command requires exactly 1 or 2 arguments\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  if (rest.size() == 1) {
    call.method = "DELETE";
    call.read = false;
    call.path = "/v1/connect/intentions/" + encodeComponent(rest[0]);
  } else {
    call = exactCall("DELETE", rest[0], rest[1]);
  }
  auto res = client->send(call);
  if (!callSucceeded(res)) {
    ctx.err << "Error deleting the intention: " << describe(res) << "\n";
    return 1;
  }
  ctx.out << "Intention deleted.\n";
  return 0;
}

}  // namespace trellis::cli
