#include "model/config_entry_schema.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/duration.h"

namespace trellis::model::schema {
namespace {

constexpr int kMaxDepth = 16;

const char* goTypeName(const Field& f) {
  switch (f.type) {
    case Type::kString:
      return "string";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kUint:
      return "uint32";
    case Type::kFloat:
      return "float32";
    case Type::kDuration:
      return "time.Duration";
    case Type::kStrings:
      return "[]string";
    case Type::kUints:
      return "[]uint32";
    case Type::kStringMap:
      return "map[string]string";
    case Type::kAny:
      return "interface {}";
    case Type::kObject:
      return f.sub->go_type;
    case Type::kObjectList:
      return f.sub->go_type;
    case Type::kObjectMap:
      return f.sub->go_type;
  }
  return "?";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status checkEnum(const Field& f, const std::string& v) {
  if (f.enums.empty() || v.empty()) return Status::ok();
  for (const char* e : f.enums) {
    if (v == e) return Status::ok();
  }
  std::string allowed;
  for (const char* e : f.enums) {
    if (!allowed.empty()) allowed += ", ";
    allowed += quote(e);
  }
  return invalidArgument(std::string(f.name) + ": invalid value " + quote(v) + ", must be one of " +
                         allowed);
}

Status one(Fields& fs, const Field& f, const InJson& v, Json* out, int depth);

Status object(const Field& f, const InJson& v, Json* out, int depth) {
  if (!v.is_object()) {
    return decodeError("json: cannot unmarshal " + jsonTypeName(v) + " into Go value of type " +
                       f.sub->go_type);
  }
  return canonicalize(v, *f.sub, out, depth + 1);
}

Status one(Fields& fs, const Field& f, const InJson& v, Json* out, int depth) {
  switch (f.type) {
    case Type::kString: {
      if (!v.is_string()) return fs.typeError(f.name, v, "string");
      std::string s = v.get<std::string>();
      if (f.lowercase) s = lower(s);
      if (Status st = checkEnum(f, s); !st) return st;
      *out = s;
      return Status::ok();
    }
    case Type::kBool:
      if (!v.is_boolean()) return fs.typeError(f.name, v, "bool");
      *out = v.get<bool>();
      return Status::ok();
    case Type::kInt:
      if (v.is_number_integer()) {
        *out = v.get<int64_t>();
        return Status::ok();
      }
      return fs.typeError(f.name, v, "int");
    case Type::kUint:
      if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
        *out = v.get<uint64_t>();
        return Status::ok();
      }
      return fs.typeError(f.name, v, goTypeName(f));
    case Type::kFloat:
      if (!v.is_number()) return fs.typeError(f.name, v, "float32");
      *out = v.get<double>();
      return Status::ok();
    case Type::kDuration: {
      if (v.is_number_integer()) {
        *out = formatGoDuration(Nanos(v.get<int64_t>()));
        return Status::ok();
      }
      if (!v.is_string()) return fs.typeError(f.name, v, "time.Duration");
      std::string s = v.get<std::string>();
      if (s.empty()) return Status::ok();
      auto d = parseGoDuration(s);
      if (!d) return decodeError("time: invalid duration " + quote(s));
      *out = formatGoDuration(*d);
      return Status::ok();
    }
    case Type::kStrings:
    case Type::kUints: {
      bool strings = f.type == Type::kStrings;
      if (!v.is_array()) return fs.typeError(f.name, v, goTypeName(f));
      *out = Json::array();
      for (const auto& e : v) {
        if (strings) {
          if (!e.is_string()) return fs.typeError(f.name, e, "string");
          std::string s = e.get<std::string>();
          if (f.lowercase) s = lower(s);
          if (Status st = checkEnum(f, s); !st) return st;
          out->push_back(s);
        } else {
          if (!e.is_number_unsigned() && !(e.is_number_integer() && e.get<int64_t>() >= 0)) {
            return fs.typeError(f.name, e, "uint32");
          }
          out->push_back(e.get<uint64_t>());
        }
      }
      return Status::ok();
    }
    case Type::kStringMap: {
      if (!v.is_object()) return fs.typeError(f.name, v, "map[string]string");
      *out = Json::object();
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it.value().is_string()) return fs.typeError(f.name, it.value(), "string");
        (*out)[it.key()] = it.value().get<std::string>();
      }
      return Status::ok();
    }
    case Type::kAny:
      *out = Json(v);
      return Status::ok();
    case Type::kObject:
      return object(f, v, out, depth);
    case Type::kObjectList: {
      if (!v.is_array()) return fs.typeError(f.name, v, std::string("[]") + f.sub->go_type);
      *out = Json::array();
      for (const auto& e : v) {
        Json item;
        if (Status st = object(f, e, &item, depth); !st) return st;
        out->push_back(std::move(item));
      }
      return Status::ok();
    }
    case Type::kObjectMap: {
      if (!v.is_object()) {
        return fs.typeError(f.name, v, std::string("map[string]") + f.sub->go_type);
      }
      *out = Json::object();
      for (auto it = v.begin(); it != v.end(); ++it) {
        Json item;
        if (Status st = object(f, it.value(), &item, depth); !st) return st;
        (*out)[it.key()] = std::move(item);
      }
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace

Status canonicalize(const InJson& in, const Schema& s, Json* out, int depth) {
  if (depth > kMaxDepth) return decodeError("json: nesting too deep");
  auto fs = Fields::of(in, s.go_type);
  if (!fs) return fs.status();
  *out = Json::object();
  for (const Field& f : s.fields) {
    const InJson* v = fs->take(f.name);
    if (v == nullptr) continue;
    Json value;
    if (Status st = one(*fs, f, *v, &value, depth); !st) return st;
    if (f.drop || value.is_null()) continue;
    (*out)[f.name] = std::move(value);
  }
  return fs->finish();
}

std::string str(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool has(const Json& obj, const char* key) { return obj.is_object() && obj.contains(key); }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

Status validateMeta(const Json& entry) {
  constexpr size_t kMaxPairs = 64, kMaxKey = 128, kMaxValue = 512;
  auto it = entry.find("Meta");
  if (it == entry.end()) return Status::ok();
  if (it->size() > kMaxPairs) {
    return invalidArgument("Meta exceeds maximum element count " + std::to_string(kMaxPairs));
  }
  for (auto m = it->begin(); m != it->end(); ++m) {
    if (m.key().size() > kMaxKey) {
      return invalidArgument("Meta key " + quote(m.key()) + " exceeds maximum length " +
                             std::to_string(kMaxKey));
    }
    if (m.value().get<std::string>().size() > kMaxValue) {
      return invalidArgument("Meta value for key " + quote(m.key()) + " exceeds maximum length " +
                             std::to_string(kMaxValue));
    }
  }
  return Status::ok();
}

// ---- Shared sub-schemas ------------------------------------------------------------------------

const Schema kMeshGateway{"structs.MeshGatewayConfig",
                          {{"Mode", Type::kString, nullptr, {"none", "local", "remote"}}}};
const Schema kTransparentProxy{
    "structs.TransparentProxyConfig",
    {{"OutboundListenerPort", Type::kInt}, {"DialedDirectly", Type::kBool}}};
const Schema kExposePath{"structs.ExposePath",
                         {{"ListenerPort", Type::kInt},
                          {"Path", Type::kString},
                          {"LocalPathPort", Type::kInt},
                          {"Protocol", Type::kString, nullptr, {"http", "http2"}, true},
                          {"ParsedFromCheck", Type::kBool}}};
const Schema kExpose{"structs.ExposeConfig",
                     {{"Checks", Type::kBool}, {"Paths", Type::kObjectList, &kExposePath}}};
const Schema kAccessLogs{"structs.AccessLogsConfig",
                         {{"Enabled", Type::kBool},
                          {"DisableListenerLogs", Type::kBool},
                          {"Type", Type::kString, nullptr, {"file", "stderr", "stdout"}},
                          {"Path", Type::kString},
                          {"JSONFormat", Type::kString},
                          {"TextFormat", Type::kString}}};
const Schema kEnvoyExtension{"structs.EnvoyExtension",
                             {{"Name", Type::kString},
                              {"Required", Type::kBool},
                              {"Arguments", Type::kAny},
                              {"ConsulVersion", Type::kString},
                              {"EnvoyVersion", Type::kString}}};
const Schema kFailoverPolicy{"structs.ServiceResolverFailoverPolicy",
                             {{"Mode", Type::kString, nullptr, {"default", "order-by-locality"}},
                              {"Regions", Type::kStrings}}};
const Schema kPrioritizeByLocality{"structs.ServiceResolverPrioritizeByLocality",
                                   {{"Mode", Type::kString, nullptr, {"none", "failover"}}}};
const Schema kPassiveHealthCheck{"structs.PassiveHealthCheck",
                                 {{"Interval", Type::kDuration},
                                  {"MaxFailures", Type::kUint},
                                  {"EnforcingConsecutive5xx", Type::kUint},
                                  {"MaxEjectionPercent", Type::kUint},
                                  {"BaseEjectionTime", Type::kDuration}}};
const Schema kUpstreamLimits{"structs.UpstreamLimits",
                             {{"MaxConnections", Type::kInt},
                              {"MaxPendingRequests", Type::kInt},
                              {"MaxConcurrentRequests", Type::kInt}}};
const Schema kUpstreamConfig{
    "structs.UpstreamConfig",
    {{"Name", Type::kString},
     {"Namespace", Type::kString},
     {"Partition", Type::kString},
     {"Peer", Type::kString},
     {"EnvoyListenerJSON", Type::kString},
     {"EnvoyClusterJSON", Type::kString},
     {"Protocol", Type::kString, nullptr, {"tcp", "http", "http2", "grpc"}, true},
     {"ConnectTimeoutMs", Type::kInt},
     {"Limits", Type::kObject, &kUpstreamLimits},
     {"PassiveHealthCheck", Type::kObject, &kPassiveHealthCheck},
     {"MeshGateway", Type::kObject, &kMeshGateway},
     {"BalanceOutboundConnections", Type::kString, nullptr, {"exact_balance"}}}};
const Schema kUpstreamConfiguration{"structs.UpstreamConfiguration",
                                    {{"Overrides", Type::kObjectList, &kUpstreamConfig},
                                     {"Defaults", Type::kObject, &kUpstreamConfig}}};
const Schema kDestination{"structs.DestinationConfig",
                          {{"Addresses", Type::kStrings}, {"Port", Type::kInt}}};
const Schema kRateLimitRoute{"structs.InstanceLevelRouteRateLimits",
                             {{"PathExact", Type::kString},
                              {"PathPrefix", Type::kString},
                              {"PathRegex", Type::kString},
                              {"RequestsPerSecond", Type::kFloat},
                              {"RequestsMaxBurst", Type::kFloat}}};
const Schema kInstanceLevelRateLimits{"structs.InstanceLevelRateLimits",
                                      {{"RequestsPerSecond", Type::kFloat},
                                       {"RequestsMaxBurst", Type::kFloat},
                                       {"Routes", Type::kObjectList, &kRateLimitRoute}}};
const Schema kRateLimits{"structs.RateLimits",
                         {{"InstanceLevel", Type::kObject, &kInstanceLevelRateLimits}}};
const Schema kHeaderModifiers{
    "structs.HTTPHeaderModifiers",
    {{"Add", Type::kStringMap}, {"Set", Type::kStringMap}, {"Remove", Type::kStrings}}};
const Schema kHeaderMatch{"structs.IntentionHTTPHeaderPermission",
                          {{"Name", Type::kString},
                           {"Present", Type::kBool},
                           {"Exact", Type::kString},
                           {"Prefix", Type::kString},
                           {"Suffix", Type::kString},
                           {"Regex", Type::kString},
                           {"Invert", Type::kBool}}};
const Schema kJwtClaim{"structs.IntentionJWTClaimVerification",
                       {{"Path", Type::kStrings}, {"Value", Type::kString}}};
const Schema kJwtProvider{
    "structs.IntentionJWTProvider",
    {{"Name", Type::kString}, {"VerifyClaims", Type::kObjectList, &kJwtClaim}}};
const Schema kJwtRequirement{"structs.IntentionJWTRequirement",
                             {{"Providers", Type::kObjectList, &kJwtProvider}}};

}  // namespace trellis::model::schema
