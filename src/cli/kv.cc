// kv get / put / delete, with the messages of Consul's command/kv.
#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "cli/format.h"

namespace trellis::cli {
namespace {

constexpr uint64_t kNoFlags = 0;

constexpr std::string_view kGetHelp = R"(Usage: trellis kv get [options] [KEY_OR_PREFIX]

  Retrieves the value from the key-value store at the given key name. If no key
  exists with that name, an error is returned. -recurse lists every pair under
  the prefix, -keys only their names, -detailed adds the metadata.
)";

constexpr std::string_view kPutHelp = R"(Usage: trellis kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. DATA may be
  @file to read a file, or - to read stdin. Without DATA an empty value is written.
)";

constexpr std::string_view kDeleteHelp = R"(Usage: trellis kv delete [options] KEY_OR_PREFIX

  Removes the value at the given path; with -recurse, every key with that prefix.
)";

std::string kvPath(const std::string& key) { return "/v1/kv/" + encodePath(key); }

std::string stripLeadingSlash(std::string key) {
  if (!key.empty() && key[0] == '/') key.erase(0, 1);
  return key;
}

// PUT/DELETE answers are a JSON bool; Go's client looks for "true" in the body.
bool answeredTrue(const http::HttpResponse& r) { return r.body.find("true") != std::string::npos; }

}  // namespace

int runKvGet(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool base64 = false, detailed = false, keys = false, recurse = false;
  std::string separator = "/";
  flags.addBool("base64", &base64, "Base64 encode the value.");
  flags.addBool("detailed", &detailed, "Print the key's metadata (indexes, flags, session).");
  flags.addBool("keys", &keys, "List keys which start with the given prefix, not their values.");
  flags.addBool("recurse", &recurse, "Recursively look at all keys prefixed with the given path.");
  flags.addString("separator", &separator,
                  "String to use as a separator between keys (with -keys). Default \"/\".");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kGetHelp, &code)) return code;
  if (flags.args().size() > 1) {
    ctx.err << "Too many arguments (expected 1, got " << flags.args().size() << ")\n";
    return 1;
  }
  std::string key = stripLeadingSlash(flags.args().empty() ? "" : flags.args()[0]);
  if (key.empty() && !(recurse || keys)) {
    ctx.err << "Error! Missing KEY argument\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;

  ApiCall call;
  call.path = kvPath(key);
  if (keys) {
    call.query.add("keys");
    if (!separator.empty()) call.query.add("separator", separator);
  } else if (recurse) {
    call.query.add("recurse");
  }
  auto res = client->send(call);
  if (!callSucceeded(res, true)) return reportFailure(ctx, "Error querying Trellis agent", res);
  if (res->status == 404) {
    if (keys || recurse) return 0;
    ctx.err << "Error! No key exists at: " << key << "\n";
    return 1;
  }
  auto body = parseJson(res->body);
  if (!body || !body->is_array()) {
    ctx.err << "Error querying Trellis agent: unexpected response body\n";
    return 1;
  }
  if (keys) {
    for (const auto& k : *body) {
      if (k.is_string()) ctx.out << k.get<std::string>() << "\n";
    }
    return 0;
  }
  const size_t count = recurse ? body->size() : std::min<size_t>(body->size(), 1);
  for (size_t i = 0; i < count; ++i) {
    const auto& pair = (*body)[i];
    if (!pair.is_object()) continue;
    if (detailed) {
      auto text = formatKvDetailed(pair, base64);
      if (!text) {
        ctx.err << "Error rendering KV pair: " << text.status().message() << "\n";
        return 1;
      }
      ctx.out << *text << "\n";
      if (recurse && i + 1 < count) ctx.out << "\n";
      continue;
    }
    auto value = kvValue(pair);
    if (!value) {
      ctx.err << "Error rendering KV pair: " << value.status().message() << "\n";
      return 1;
    }
    std::string shown = base64 ? base64Encode(*value) : *value;
    if (recurse) {
      ctx.out << pair.value("Key", "") << ":" << shown << "\n";
    } else {
      ctx.out << shown << "\n";
    }
  }
  if (count == 0 && !recurse) {
    ctx.err << "Error! No key exists at: " << key << "\n";
    return 1;
  }
  return 0;
}

int runKvPut(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool cas = false, base64 = false, acquire = false, release = false;
  uint64_t kvFlags = kNoFlags, modifyIndex = 0;
  std::string session;
  flags.addBool("cas", &cas, "Perform a Check-And-Set operation (requires -modify-index).");
  flags.addUint64("flags", &kvFlags, "Unsigned integer value to assign to this key-value pair.");
  flags.addBool("base64", &base64, "Treat the data as base 64 encoded.");
  flags.addUint64("modify-index", &modifyIndex, "ModifyIndex of the key, used with -cas.");
  flags.addString("session", &session, "Session ID, used with -acquire and -release.");
  flags.addBool("acquire", &acquire, "Obtain a lock on the key (requires -session).");
  flags.addBool("release", &release, "Release the lock on the key (requires -session).");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kPutHelp, &code)) return code;
  const auto& rest = flags.args();
  if (rest.empty()) {
    ctx.err << "Error! Missing KEY argument\n";
    return 1;
  }
  if (rest.size() > 2) {
    ctx.err << "Error! Too many arguments (expected 1 or 2, got " << rest.size() << ")\n";
    return 1;
  }
  const std::string& key = rest[0];
  std::string data;
  if (rest.size() == 2 && !rest[1].empty()) {
    const std::string& arg = rest[1];
    if (arg[0] == '@' || arg == "-") {
      auto loaded = loadDataSource(arg, ctx);
      if (!loaded) {
        ctx.err << "Error! " << loaded.status().message() << "\n";
        return 1;
      }
      data = std::move(*loaded);
    } else {
      data = arg;
    }
  }
  if (base64) {
    auto decoded = base64Decode(data);
    if (!decoded) {
      ctx.err << "Error! Cannot base 64 decode data: illegal base64 data\n";
      return 1;
    }
    data = std::move(*decoded);
  }
  if ((release || acquire) && session.empty()) {
    ctx.err << "Error! Missing -session (required with -acquire and -release)\n";
    return 1;
  }
  if (cas && modifyIndex == 0) {
    ctx.err << "Must specify -modify-index with -cas!\n";
    return 1;
  }
  if (!key.empty() && key[0] == '/') {
    ctx.err << "Error! Failed writing data: Invalid key. Key must not begin with a '/': " << key
            << "\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;

  ApiCall call;
  call.method = "PUT";
  call.read = false;
  call.path = kvPath(key);
  call.body = data;
  if (kvFlags != kNoFlags) call.query.add("flags", std::to_string(kvFlags));
  if (cas) {
    call.query.add("cas", std::to_string(modifyIndex));
  } else if (acquire) {
    call.query.add("acquire", session);
  } else if (release) {
    call.query.add("release", session);
  }
  auto res = client->send(call);
  if (cas) {
    if (!callSucceeded(res)) return reportFailure(ctx, "Error! Did not write to " + key, res);
    if (!answeredTrue(*res)) {
      ctx.err << "Error! Did not write to " << key << ": CAS failed\n";
      return 1;
    }
  } else if (acquire || release) {
    if (!callSucceeded(res)) return reportFailure(ctx, "Error! Failed writing data", res);
    if (!answeredTrue(*res)) {
      ctx.err << (acquire ? "Error! Did not acquire lock\n" : "Error! Did not release lock\n");
      return 1;
    }
    ctx.out << (acquire ? "Success! Lock acquired on: " : "Success! Lock released on: ") << key
            << "\n";
    return 0;
  } else if (!callSucceeded(res)) {
    return reportFailure(ctx, "Error! Failed writing data", res);
  }
  ctx.out << "Success! Data written to: " << key << "\n";
  return 0;
}

int runKvDelete(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool cas = false, recurse = false;
  uint64_t modifyIndex = 0;
  flags.addBool("cas", &cas, "Perform a Check-And-Set operation (requires -modify-index).");
  flags.addUint64("modify-index", &modifyIndex, "ModifyIndex of the key, used with -cas.");
  flags.addBool("recurse", &recurse, "Recursively delete all keys with the path.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kDeleteHelp, &code)) return code;
  if (flags.args().size() > 1) {
    ctx.err << "Too many arguments (expected 1, got " << flags.args().size() << ")\n";
    return 1;
  }
  std::string key = stripLeadingSlash(flags.args().empty() ? "" : flags.args()[0]);
  if (key.empty() && !recurse) {
    ctx.err << "Error! Missing KEY argument\n";
    return 1;
  }
  if (cas && modifyIndex == 0) {
    ctx.err << "Cannot delete a key that does not exist. Provide a -modify-index greater than "
               "than 0.\n";
    return 1;
  }
  if (modifyIndex != 0 && !cas) {
    ctx.err << "Cannot specify -modify-index without -cas!\n";
    return 1;
  }
  if (recurse && cas) {
    ctx.err << "Cannot specify both -cas and -recurse!\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;

  ApiCall call;
  call.method = "DELETE";
  call.read = false;
  call.path = kvPath(key);
  if (recurse) call.query.add("recurse");
  if (cas) call.query.add("cas", std::to_string(modifyIndex));
  auto res = client->send(call);
  if (recurse) {
    if (!callSucceeded(res)) return reportFailure(ctx, "Error! Did not delete prefix " + key, res);
    ctx.out << "Success! Deleted keys with prefix: " << key << "\n";
    return 0;
  }
  if (cas) {
    if (!callSucceeded(res)) return reportFailure(ctx, "Error! Did not delete key " + key, res);
    if (!answeredTrue(*res)) {
      ctx.err << "Error! Did not delete key " << key << ": CAS failed\n";
      return 1;
    }
  } else if (!callSucceeded(res)) {
    return reportFailure(ctx, "Error deleting key " + key, res);
  }
  ctx.out << "Success! Deleted key: " << key << "\n";
  return 0;
}

}  // namespace trellis::cli
