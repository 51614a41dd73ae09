// service-intentions: schema, Consul's normalize + validate, and the typed view.
#include <algorithm>
#include <set>
#include <tuple>

#include "model/config_entry.h"
#include "model/config_entry_schema.h"

namespace trellis::model {
namespace schema {
namespace {

const Schema kHttpPermission{"structs.IntentionHTTPPermission",
                             {{"PathExact", Type::kString},
                              {"PathPrefix", Type::kString},
                              {"PathRegex", Type::kString},
                              {"Header", Type::kObjectList, &kHeaderMatch},
                              {"Methods", Type::kStrings}}};
const Schema kPermission{"structs.IntentionPermission",
                         {{"Action", Type::kString},
                          {"HTTP", Type::kObject, &kHttpPermission},
                          {"JWT", Type::kObject, &kJwtRequirement}}};
const Schema kSource{"structs.SourceIntention",
                     {{"Name", Type::kString},
                      {"Namespace", Type::kString, nullptr, {"default"}, false, true},
                      {"Partition", Type::kString, nullptr, {"default"}, false, true},
                      {"Action", Type::kString},
                      {"Permissions", Type::kObjectList, &kPermission},
                      {"Precedence", Type::kInt},
                      {"LegacyID", Type::kString},
                      {"Type", Type::kString},
                      {"Description", Type::kString},
                      {"LegacyMeta", Type::kStringMap},
                      {"LegacyCreateTime", Type::kString},
                      {"LegacyUpdateTime", Type::kString},
                      {"Peer", Type::kString},
                      {"SamenessGroup", Type::kString}}};

constexpr size_t kMaxDescription = 512;

const std::set<std::string>& httpMethods() {
  static const std::set<std::string> m = {"GET",    "HEAD",    "POST",    "PUT",  "PATCH",
                                          "DELETE", "CONNECT", "OPTIONS", "TRACE"};
  return m;
}

Status wildcards(const std::string& name, const std::string& prefix) {
  if (name != "*" && name.find('*') != std::string::npos) {
    return invalidArgument(prefix +
                           "Name: wildcard character '*' cannot be used with partial values");
  }
  return Status::ok();
}

// CE has one namespace, so Consul's precedence table collapses to 9/8/6/5.
int precedence(const std::string& dst, const std::string& src) {
  int max = dst == "*" ? 6 : 9;
  return max - (src == "*" ? 1 : 0);
}

Status validatePermission(Json* perm, const std::string& p) {
  std::string action = str(*perm, "Action");
  if (action != "allow" && action != "deny") {
    return invalidArgument(p + ".Action must be set to 'allow' or 'deny'");
  }
  if (!has(*perm, "HTTP")) return invalidArgument(p + ".HTTP is required");
  Json& http = (*perm)["HTTP"];
  std::string hp = p + ".HTTP";
  int path_parts = 0;
  for (const char* k : {"PathExact", "PathPrefix"}) {
    std::string v = str(http, k);
    if (v.empty()) continue;
    ++path_parts;
    if (v[0] != '/') {
      return invalidArgument(hp + "." + k + " doesn't start with '/': " + quote(v));
    }
  }
  if (!str(http, "PathRegex").empty()) ++path_parts;
  if (path_parts > 1) {
    return invalidArgument(
        hp + " should only contain at most one of PathExact, PathPrefix, or PathRegex");
  }
  int parts = path_parts;
  if (has(http, "Header")) {
    const Json& headers = http["Header"];
    for (size_t k = 0; k < headers.size(); ++k) {
      const Json& h = headers[k];
      std::string hk = hp + ".Header[" + std::to_string(k) + "]";
      if (str(h, "Name").empty()) return invalidArgument(hk + " missing required Name field");
      int n = (has(h, "Present") && h["Present"].get<bool>()) ? 1 : 0;
      for (const char* m : {"Exact", "Regex", "Prefix", "Suffix"}) n += str(h, m).empty() ? 0 : 1;
      if (n != 1) {
        return invalidArgument(
            hk + " should only contain one of Present, Exact, Prefix, Suffix, or Regex");
      }
      ++parts;
    }
  }
  if (has(http, "Methods") && !http["Methods"].empty()) {
    std::set<std::string> seen;
    for (auto& m : http["Methods"]) {
      std::string up = m.get<std::string>();
      std::transform(up.begin(), up.end(), up.begin(), ::toupper);
      m = up;
      if (httpMethods().count(up) == 0) {
        return invalidArgument(hp + ".Methods contains an invalid method " + quote(up));
      }
      if (!seen.insert(up).second) {
        return invalidArgument(hp + ".Methods contains " + quote(up) + " more than once");
      }
    }
    ++parts;
  }
  if (parts == 0) return invalidArgument(hp + " should not be empty");
  if (has(*perm, "JWT") && has((*perm)["JWT"], "Providers")) {
    for (const auto& pr : (*perm)["JWT"]["Providers"]) {
      if (str(pr, "Name").empty()) return invalidArgument("JWT provider name is required");
    }
  }
  return Status::ok();
}

Status validateSource(Json* src, size_t i, bool legacy, bool dest_wild) {
  std::string p = "Sources[" + std::to_string(i) + "]";
  std::string name = str(*src, "Name");
  if (name.empty()) return invalidArgument(p + ".Name is required");
  if (Status s = wildcards(name, p + "."); !s) return s;
  std::string peer = str(*src, "Peer"), group = str(*src, "SamenessGroup");
  if (peer.find('*') != std::string::npos) {
    return invalidArgument(p + ".Peer: cannot use wildcard '*' in peer");
  }
  if (group.find('*') != std::string::npos) {
    return invalidArgument(p + ".SamenessGroup: cannot use wildcard '*' in sameness group");
  }
  if (!peer.empty() && !group.empty()) {
    return invalidArgument(p +
                           ".SamenessGroup: cannot set SamenessGroup and Peer at the same time");
  }
  if (str(*src, "Description").size() > kMaxDescription) {
    return invalidArgument(p + ".Description exceeds maximum length " +
                           std::to_string(kMaxDescription));
  }
  if (legacy) {
    if (!peer.empty()) return invalidArgument(p + ".Peer cannot be set by legacy intentions");
    if (!group.empty()) {
      return invalidArgument(p + ".SamenessGroup cannot be set by legacy intentions");
    }
    if (str(*src, "LegacyCreateTime").empty()) {
      return invalidArgument(p + ".LegacyCreateTime must be set");
    }
    if (str(*src, "LegacyUpdateTime").empty()) {
      return invalidArgument(p + ".LegacyUpdateTime must be set");
    }
    if (str(*src, "LegacyID").empty()) return invalidArgument(p + ".LegacyID must be set");
  } else if (has(*src, "LegacyMeta") && !(*src)["LegacyMeta"].empty()) {
    return invalidArgument(p + ".LegacyMeta must be omitted");
  }
  bool has_perms = has(*src, "Permissions") && !(*src)["Permissions"].empty();
  std::string action = str(*src, "Action");
  if ((legacy || !has_perms) && action != "allow" && action != "deny") {
    return invalidArgument(p + ".Action must be set to 'allow' or 'deny'");
  }
  if (has_perms && !action.empty()) {
    return invalidArgument(p + ".Action must be omitted if Permissions are specified");
  }
  if (dest_wild && has_perms) {
    return invalidArgument(
        p + ".Permissions cannot be specified on intentions with wildcarded destinations");
  }
  if (str(*src, "Type") != "consul") {
    return invalidArgument(p + ".Type must be set to 'consul'");
  }
  if (has_perms) {
    Json& perms = (*src)["Permissions"];
    for (size_t j = 0; j < perms.size(); ++j) {
      if (Status s = validatePermission(&perms[j], p + ".Permissions[" + std::to_string(j) + "]");
          !s) {
        return s;
      }
    }
  }
  return Status::ok();
}

}  // namespace

const Schema& kPermissionSchema = kPermission;

const Schema kServiceIntentionsSchema{"structs.ServiceIntentionsConfigEntry",
                                      withCommon({{"Sources", Type::kObjectList, &kSource},
                                                  {"JWT", Type::kObject, &kJwtRequirement}})};

Status validateServiceIntentions(Json* e, bool legacy) {
  std::string name = str(*e, "Name");
  if (name.empty()) return invalidArgument("Name is required");
  if (Status s = wildcards(name, ""); !s) return s;
  bool dest_wild = name == "*";
  if (has(*e, "JWT") && has((*e)["JWT"], "Providers")) {
    for (const auto& pr : (*e)["JWT"]["Providers"]) {
      if (str(pr, "Name").empty()) return invalidArgument("JWT provider name is required");
    }
  }
  if (legacy && has(*e, "Meta") && !(*e)["Meta"].empty()) {
    return invalidArgument("Meta must be omitted for legacy intention writes");
  }
  if (!has(*e, "Sources") || (*e)["Sources"].empty()) {
    return invalidArgument("At least one source is required");
  }
  Json& sources = (*e)["Sources"];
  // normalize: default Type, recompute Precedence, clear legacy fields on non-legacy writes.
  for (auto& src : sources) {
    if (str(src, "Type").empty()) src["Type"] = "consul";
    src["Precedence"] = precedence(name, str(src, "Name"));
    if (legacy) {
      if (!has(src, "LegacyMeta")) src["LegacyMeta"] = Json::object();
    } else {
      src.erase("LegacyID");
      src.erase("LegacyCreateTime");
      src.erase("LegacyUpdateTime");
    }
  }
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (Status s = validateSource(&sources[i], i, legacy, dest_wild); !s) return s;
    auto key = std::make_tuple(str(sources[i], "Name"), str(sources[i], "Peer"),
                               str(sources[i], "SamenessGroup"));
    if (!seen.insert(key).second) {
      std::string p = "Sources[" + std::to_string(i) + "] defines ";
      if (!std::get<1>(key).empty()) p += "peer(" + quote(std::get<1>(key)) + ") ";
      if (!std::get<2>(key).empty()) p += "sameness-group(" + quote(std::get<2>(key)) + ") ";
      return invalidArgument(p + quote(std::get<0>(key)) + " more than once");
    }
  }
  // Highest precedence first; stable so equal precedences keep the user's order.
  std::vector<Json> sorted(sources.begin(), sources.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Json& a, const Json& b) {
    return a["Precedence"].get<int>() > b["Precedence"].get<int>();
  });
  sources = Json(sorted);
  // Emit sources with Consul's field order.
  for (auto& src : sources) {
    Json ordered = Json::object();
    for (const char* k :
         {"Name", "Action", "Permissions", "Precedence", "LegacyID", "Type", "Description",
          "LegacyMeta", "LegacyCreateTime", "LegacyUpdateTime", "Peer", "SamenessGroup"}) {
      if (!legacy && std::string_view(k) == "LegacyMeta") continue;
      if (src.contains(k)) ordered[k] = src[k];
    }
    src = std::move(ordered);
  }
  return Status::ok();
}

}  // namespace schema

// ---- Typed view --------------------------------------------------------------------------------

namespace {

using schema::Json;
using schema::str;

std::map<std::string, std::string> stringMap(const Json& obj, const char* key) {
  std::map<std::string, std::string> out;
  if (!schema::has(obj, key)) return out;
  for (auto it = obj[key].begin(); it != obj[key].end(); ++it) {
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

}  // namespace

Result<IntentionPermission> permissionFromJson(const nlohmann::json& j) {
  IntentionPermission p;
  p.action = j.value("Action", "");
  if (j.contains("JWT")) p.jwt = j["JWT"];
  if (j.contains("HTTP") && j["HTTP"].is_object()) {
    const auto& h = j["HTTP"];
    IntentionHttpMatch m;
    m.path_exact = h.value("PathExact", "");
    m.path_prefix = h.value("PathPrefix", "");
    m.path_regex = h.value("PathRegex", "");
    if (h.contains("Methods")) m.methods = h["Methods"].get<std::vector<std::string>>();
    if (h.contains("Header")) {
      for (const auto& hd : h["Header"]) {
        IntentionHeaderMatch x;
        x.name = hd.value("Name", "");
        x.present = hd.value("Present", false);
        x.exact = hd.value("Exact", "");
        x.prefix = hd.value("Prefix", "");
        x.suffix = hd.value("Suffix", "");
        x.regex = hd.value("Regex", "");
        x.invert = hd.value("Invert", false);
        m.headers.push_back(std::move(x));
      }
    }
    p.http = std::move(m);
  }
  return p;
}

Result<ServiceIntentions> serviceIntentions(const ConfigEntry& e) {
  if (e.kind != kServiceIntentions) {
    return invalidArgument("config entry " + e.kind + "/" + e.name + " is not service-intentions");
  }
  auto j = nlohmann::json::parse(e.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return internalError("corrupt config entry body");
  try {
    ServiceIntentions si;
    si.name = j.value("Name", "");
    Json oj = Json::parse(e.body);
    si.meta = stringMap(oj, "Meta");
    if (j.contains("JWT")) si.jwt = j["JWT"];
    for (size_t i = 0; j.contains("Sources") && i < j["Sources"].size(); ++i) {
      const auto& s = j["Sources"][i];
      SourceIntention src;
      src.name = s.value("Name", "");
      src.peer = s.value("Peer", "");
      src.sameness_group = s.value("SamenessGroup", "");
      src.action = s.value("Action", "");
      src.precedence = s.value("Precedence", 0);
      src.legacy_id = s.value("LegacyID", "");
      src.type = s.value("Type", "consul");
      src.description = s.value("Description", "");
      src.legacy_meta = stringMap(oj["Sources"][i], "LegacyMeta");
      src.legacy_create_time = s.value("LegacyCreateTime", "");
      src.legacy_update_time = s.value("LegacyUpdateTime", "");
      if (s.contains("Permissions")) {
        for (const auto& p : s["Permissions"]) src.permissions.push_back(*permissionFromJson(p));
      }
      si.sources.push_back(std::move(src));
    }
    return si;
  } catch (const nlohmann::json::exception& ex) {
    return internalError(std::string("corrupt config entry body: ") + ex.what());
  }
}

nlohmann::ordered_json toJson(const IntentionPermission& p) {
  Json out = Json::object();
  out["Action"] = p.action;
  if (p.http) {
    Json h = Json::object();
    if (!p.http->path_exact.empty()) h["PathExact"] = p.http->path_exact;
    if (!p.http->path_prefix.empty()) h["PathPrefix"] = p.http->path_prefix;
    if (!p.http->path_regex.empty()) h["PathRegex"] = p.http->path_regex;
    if (!p.http->headers.empty()) {
      Json hs = Json::array();
      for (const auto& x : p.http->headers) {
        Json hj = {{"Name", x.name}};
        if (x.present) hj["Present"] = true;
        if (!x.exact.empty()) hj["Exact"] = x.exact;
        if (!x.prefix.empty()) hj["Prefix"] = x.prefix;
        if (!x.suffix.empty()) hj["Suffix"] = x.suffix;
        if (!x.regex.empty()) hj["Regex"] = x.regex;
        if (x.invert) hj["Invert"] = true;
        hs.push_back(std::move(hj));
      }
      h["Header"] = std::move(hs);
    }
    if (!p.http->methods.empty()) h["Methods"] = p.http->methods;
    out["HTTP"] = std::move(h);
  }
  if (!p.jwt.is_null()) out["JWT"] = Json::parse(p.jwt.dump());
  return out;
}

nlohmann::ordered_json toJson(const ServiceIntentions& si) {
  Json out = {{"Kind", std::string(kServiceIntentions)}, {"Name", si.name}};
  Json sources = Json::array();
  for (const auto& s : si.sources) {
    Json j = {{"Name", s.name}};
    if (!s.action.empty()) j["Action"] = s.action;
    if (!s.permissions.empty()) {
      j["Permissions"] = Json::array();
      for (const auto& p : s.permissions) j["Permissions"].push_back(toJson(p));
    }
    if (!s.legacy_id.empty()) j["LegacyID"] = s.legacy_id;
    j["Type"] = s.type;
    if (!s.description.empty()) j["Description"] = s.description;
    if (!s.legacy_meta.empty()) j["LegacyMeta"] = s.legacy_meta;
    if (!s.legacy_create_time.empty()) j["LegacyCreateTime"] = s.legacy_create_time;
    if (!s.legacy_update_time.empty()) j["LegacyUpdateTime"] = s.legacy_update_time;
    if (!s.peer.empty()) j["Peer"] = s.peer;
    if (!s.sameness_group.empty()) j["SamenessGroup"] = s.sameness_group;
    sources.push_back(std::move(j));
  }
  out["Sources"] = std::move(sources);
  if (!si.jwt.is_null()) out["JWT"] = Json::parse(si.jwt.dump());
  if (!si.meta.empty()) out["Meta"] = si.meta;
  return out;
}

Result<std::vector<IntentionPermission>> decodePermissions(const nlohmann::json& in) {
  std::vector<IntentionPermission> out;
  if (in.is_null()) return out;
  if (!in.is_array()) {
    return decodeError("json: cannot unmarshal " + jsonTypeName(in) +
                       " into Go struct field Intention.Permissions of type "
                       "[]*structs.IntentionPermission");
  }
  try {
    for (const auto& p : in) {
      Json canonical;
      if (Status s = schema::canonicalize(p, schema::kPermissionSchema, &canonical); !s) return s;
      auto perm = permissionFromJson(nlohmann::json::parse(canonical.dump()));
      if (!perm) return perm.status();
      out.push_back(std::move(*perm));
    }
  } catch (const nlohmann::json::exception& ex) {
    return decodeError(ex.what());
  }
  return out;
}

Result<ConfigEntry> makeServiceIntentions(const ServiceIntentions& si, bool legacy_write) {
  DecodeOptions opts;
  opts.legacy_intentions = legacy_write;
  return decodeConfigEntry(nlohmann::json::parse(toJson(si).dump()), opts);
}

}  // namespace trellis::model
