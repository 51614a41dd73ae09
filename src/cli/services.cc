// services register / deregister. Definitions from files are sent as written: the agent accepts
// both PascalCase and snake_case keys, so the CLI does not need to understand them.
#include <strings.h>

#include <fstream>
#include <sstream>

#include "cli/command.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kRegisterHelp = R"(Usage: trellis services register [options] [FILE...]

  Register one or more services using the local agent API, from service
  definition files (JSON, or HCL when linked) or from flags.

      $ trellis services register web.json
      $ trellis services register -name=web -port=8080 -tag=v1
)";

constexpr std::string_view kDeregisterHelp =
    R"(Usage: trellis services deregister [options] [FILE...]

  Deregister services previously registered with the local agent, by the
  definition files that registered them or by -id.
)";

// Case-insensitive key lookup: Go's JSON decoding matches field names that way.
json::iterator findKey(json& obj, std::string_view name) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key().size() == name.size() &&
        ::strncasecmp(it.key().data(), name.data(), name.size()) == 0) {
      return it;
    }
  }
  return obj.end();
}

std::string stringField(json& obj, std::string_view name) {
  auto it = findKey(obj, name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool hasEndingCi(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         ::strcasecmp(s.c_str() + s.size() - suffix.size(), std::string(suffix).c_str()) == 0;
}

Result<std::vector<json>> servicesFromFile(const std::string& path, Context& ctx) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument("Error reading " + path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  json doc;
  if (hasEndingCi(path, ".hcl")) {
    if (ctx.hcl == nullptr || !*ctx.hcl) return invalidArgument("HCL support not linked");
    auto parsed = (*ctx.hcl)(ss.str());
    if (!parsed) return invalidArgument("Error parsing " + path + ": " + parsed.status().message());
    doc = std::move(*parsed);
  } else {
    auto parsed = parseJson(ss.str());
    if (!parsed) return invalidArgument("Error parsing " + path + ": invalid JSON");
    doc = std::move(*parsed);
  }
  if (!doc.is_object()) return invalidArgument("Error parsing " + path + ": not a JSON object");
  std::vector<json> out;
  if (auto it = findKey(doc, "service"); it != doc.end()) {
    if (!it->is_object()) return invalidArgument(path + ": \"service\" must be an object");
    out.push_back(*it);
  }
  if (auto it = findKey(doc, "services"); it != doc.end()) {
    if (!it->is_array()) return invalidArgument(path + ": \"services\" must be a list");
    for (const auto& s : *it) {
      if (!s.is_object()) return invalidArgument(path + ": each service must be an object");
      out.push_back(s);
    }
  }
  if (out.empty()) {
    return invalidArgument(path + ": no service definition (expected \"service\" or \"services\")");
  }
  return out;
}

struct RegisterFlags {
  std::string id, name, address, kind;
  int64_t port = 0;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
};

// Values given by flags fill in what a file leaves unset, like Consul's CombineArgs.
void combine(json& svc, const RegisterFlags& f) {
  auto fill = [&](std::string_view key, const json& value, bool given) {
    auto it = findKey(svc, key);
    if (given && (it == svc.end() || it->is_null() || *it == "" || *it == 0)) {
      svc[std::string(key)] = value;
    }
  };
  fill("ID", f.id, !f.id.empty());
  fill("Address", f.address, !f.address.empty());
  fill("Port", f.port, f.port != 0);
  fill("Kind", f.kind, !f.kind.empty());
  if (!f.meta.empty()) {
    auto it = findKey(svc, "Meta");
    json& meta = it != svc.end() && it->is_object() ? *it : (svc["Meta"] = json::object());
    for (const auto& [k, v] : f.meta) meta[k] = v;
  }
  if (!f.tags.empty()) {
    auto it = findKey(svc, "Tags");
    json& tags = it != svc.end() && it->is_array() ? *it : (svc["Tags"] = json::array());
    for (const auto& t : f.tags) tags.push_back(t);
  }
}

}  // namespace

int runServicesRegister(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  RegisterFlags f;
  flags.addString("id", &f.id, "ID of the service to register. Defaults to -name.");
  flags.addString("name", &f.name, "Name of the service to register.");
  flags.addString("address", &f.address, "Address of the service to register.");
  flags.addInt("port", &f.port, "Port of the service to register.");
  flags.addString("kind", &f.kind, "The service's kind.");
  flags.addStringList("tag", &f.tags, "Tag to add to the service (repeatable).");
  flags.addMap("meta", &f.meta, "Metadata to set on the service, as key=value (repeatable).");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kRegisterHelp, &code)) return code;
  const auto& files = flags.args();
  if (files.empty() && f.name.empty()) {
    ctx.err << "Service registration requires at least one argument or flags.\n";
    return 1;
  }
  if (!files.empty() && !f.name.empty()) {
    ctx.err << "Service registration requires arguments or -id, not both.\n";
    return 1;
  }
  std::vector<json> services;
  for (const auto& file : files) {
    auto loaded = servicesFromFile(file, ctx);
    if (!loaded) {
      ctx.err << "Error: " << loaded.status().message() << "\n";
      return 1;
    }
    for (auto& s : *loaded) {
      combine(s, f);
      services.push_back(std::move(s));
    }
  }
  if (files.empty()) {
    json svc = json::object();
    if (!f.kind.empty()) svc["Kind"] = f.kind;
    if (!f.id.empty()) svc["ID"] = f.id;
    svc["Name"] = f.name;
    if (!f.tags.empty()) svc["Tags"] = f.tags;
    if (f.port != 0) svc["Port"] = f.port;
    if (!f.address.empty()) svc["Address"] = f.address;
    if (!f.meta.empty()) svc["Meta"] = f.meta;
    services.push_back(std::move(svc));
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  for (auto& svc : services) {
    std::string name = stringField(svc, "Name");
    ApiCall call;
    call.method = "PUT";
    call.read = false;
    call.path = "/v1/agent/service/register";
    call.body = svc.dump();
    auto res = client->send(call);
    if (!callSucceeded(res)) {
      return reportFailure(ctx, "Error registering service \"" + name + "\"", res);
    }
    ctx.out << "Registered service: " << name << "\n";
  }
  return 0;
}

int runServicesDeregister(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  std::string id;
  flags.addString("id", &id, "ID to delete. This must not be set if arguments are given.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kDeregisterHelp, &code)) return code;
  const auto& files = flags.args();
  if (files.empty() && id.empty()) {
    ctx.err << "Service deregistration requires at least one argument or -id.\n";
    return 1;
  }
  if (!files.empty() && !id.empty()) {
    ctx.err << "Service deregistration requires arguments or -id, not both.\n";
    return 1;
  }
  std::vector<std::string> ids;
  if (!id.empty()) ids.push_back(id);
  for (const auto& file : files) {
    auto loaded = servicesFromFile(file, ctx);
    if (!loaded) {
      ctx.err << "Error: " << loaded.status().message() << "\n";
      return 1;
    }
    for (auto& s : *loaded) {
      std::string sid = stringField(s, "ID");
      if (sid.empty()) sid = stringField(s, "Name");
      if (!sid.empty()) ids.push_back(sid);
    }
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  for (const auto& sid : ids) {
    ApiCall call;
    call.method = "PUT";
    call.read = false;
    call.path = "/v1/agent/service/deregister/" + encodeComponent(sid);
    auto res = client->send(call);
    if (!callSucceeded(res)) {
      return reportFailure(ctx, "Error deregistering service \"" + sid + "\"", res);
    }
    ctx.out << "Deregistered service: " << sid << "\n";
  }
  return 0;
}

}  // namespace trellis::cli
