// proxy-defaults, service-defaults and mesh: schemas and full validation.
#include "model/config_entry_schema.h"

namespace trellis::model::schema {
namespace {

const std::vector<const char*> kProtocols = {"tcp", "http", "http2", "grpc"};
const std::vector<const char*> kTlsVersions = {"TLS_AUTO", "TLSv1_0", "TLSv1_1", "TLSv1_2",
                                               "TLSv1_3"};

const Schema kMeshTransparentProxy{"structs.TransparentProxyMeshConfig",
                                   {{"MeshDestinationsOnly", Type::kBool}}};
const Schema kMeshDirectionalTls{"structs.MeshDirectionalTLSConfig",
                                 {{"TLSMinVersion", Type::kString, nullptr, kTlsVersions},
                                  {"TLSMaxVersion", Type::kString, nullptr, kTlsVersions},
                                  {"CipherSuites", Type::kStrings}}};
const Schema kMeshTls{"structs.MeshTLSConfig",
                      {{"Incoming", Type::kObject, &kMeshDirectionalTls},
                       {"Outgoing", Type::kObject, &kMeshDirectionalTls}}};
const Schema kRequestNormalization{"structs.RequestNormalizationMeshConfig",
                                   {{"InsecureDisablePathNormalization", Type::kBool},
                                    {"MergeSlashes", Type::kBool},
                                    {"PathWithEscapedSlashesAction",
                                     Type::kString,
                                     nullptr,
                                     {"DEFAULT", "KEEP_UNCHANGED", "REJECT_REQUEST",
                                      "UNESCAPE_AND_REDIRECT", "UNESCAPE_AND_FORWARD"}},
                                    {"HeadersWithUnderscoresAction",
                                     Type::kString,
                                     nullptr,
                                     {"ALLOW", "REJECT_REQUEST", "DROP_HEADER"}}}};
const Schema kMeshDirectionalHttp{
    "structs.MeshDirectionalHTTPConfig",
    {{"RequestNormalization", Type::kObject, &kRequestNormalization}}};
const Schema kMeshHttp{"structs.MeshHTTPConfig",
                       {{"SanitizeXForwardedClientCert", Type::kBool},
                        {"Incoming", Type::kObject, &kMeshDirectionalHttp}}};
const Schema kPeering{"structs.PeeringMeshConfig", {{"PeerThroughMeshGateways", Type::kBool}}};

Status validatePort(const Json& obj, const char* key, const std::string& path) {
  if (!has(obj, key)) return Status::ok();
  int64_t p = obj[key].get<int64_t>();
  if (p < 0 || p > 65535) {
    return invalidArgument(path + key + " must be between 0 and 65535, got " + std::to_string(p));
  }
  return Status::ok();
}

// Checks shared by proxy-defaults and service-defaults.
Status validateProxyShared(const Json& e) {
  if (has(e, "TransparentProxy")) {
    if (Status s = validatePort(e["TransparentProxy"], "OutboundListenerPort", "TransparentProxy.");
        !s) {
      return s;
    }
  }
  if (has(e, "Expose") && has(e["Expose"], "Paths")) {
    const Json& paths = e["Expose"]["Paths"];
    for (size_t i = 0; i < paths.size(); ++i) {
      std::string p = "Expose.Paths[" + std::to_string(i) + "].";
      const Json& path = paths[i];
      std::string value = str(path, "Path");
      if (!value.empty() && value[0] != '/') {
        return invalidArgument(p + "Path must start with '/': " + quote(value));
      }
      if (Status s = validatePort(path, "ListenerPort", p); !s) return s;
      if (Status s = validatePort(path, "LocalPathPort", p); !s) return s;
    }
  }
  if (has(e, "AccessLogs")) {
    const Json& a = e["AccessLogs"];
    if (has(a, "JSONFormat") && has(a, "TextFormat") && !str(a, "JSONFormat").empty() &&
        !str(a, "TextFormat").empty()) {
      return invalidArgument("AccessLogs: cannot specify both JSONFormat and TextFormat");
    }
    if (str(a, "Type") == "file" && str(a, "Path").empty()) {
      return invalidArgument("AccessLogs: path must be specified when writing to a file");
    }
    if (str(a, "Type") != "file" && !str(a, "Path").empty()) {
      return invalidArgument("AccessLogs: path is only valid for file type access logs");
    }
  }
  if (has(e, "EnvoyExtensions")) {
    const Json& exts = e["EnvoyExtensions"];
    for (size_t i = 0; i < exts.size(); ++i) {
      if (str(exts[i], "Name").empty()) {
        return invalidArgument("EnvoyExtensions[" + std::to_string(i) + "].Name is required");
      }
    }
  }
  return Status::ok();
}

int tlsRank(const std::string& v) {
  for (size_t i = 1; i < kTlsVersions.size(); ++i) {
    if (v == kTlsVersions[i]) return static_cast<int>(i);
  }
  return 0;  // "" and TLS_AUTO impose no order
}

}  // namespace

const Schema kProxyDefaultsSchema{
    "structs.ProxyConfigEntry",
    withCommon({
        {"Mode", Type::kString, nullptr, {"direct", "transparent"}},
        {"TransparentProxy", Type::kObject, &kTransparentProxy},
        {"MutualTLSMode", Type::kString, nullptr, {"strict", "permissive"}},
        {"Config", Type::kAny},
        {"MeshGateway", Type::kObject, &kMeshGateway},
        {"Expose", Type::kObject, &kExpose},
        {"AccessLogs", Type::kObject, &kAccessLogs},
        {"EnvoyExtensions", Type::kObjectList, &kEnvoyExtension},
        {"FailoverPolicy", Type::kObject, &kFailoverPolicy},
        {"PrioritizeByLocality", Type::kObject, &kPrioritizeByLocality},
    })};

const Schema kServiceDefaultsSchema{
    "structs.ServiceConfigEntry",
    withCommon({
        {"Protocol", Type::kString, nullptr, kProtocols, true},
        {"Mode", Type::kString, nullptr, {"direct", "transparent"}},
        {"TransparentProxy", Type::kObject, &kTransparentProxy},
        {"MutualTLSMode", Type::kString, nullptr, {"strict", "permissive"}},
        {"MeshGateway", Type::kObject, &kMeshGateway},
        {"Expose", Type::kObject, &kExpose},
        {"ExternalSNI", Type::kString},
        {"UpstreamConfig", Type::kObject, &kUpstreamConfiguration},
        {"Destination", Type::kObject, &kDestination},
        {"MaxInboundConnections", Type::kInt},
        {"LocalConnectTimeoutMs", Type::kInt},
        {"LocalRequestTimeoutMs", Type::kInt},
        {"BalanceInboundConnections", Type::kString, nullptr, {"exact_balance"}},
        {"RateLimits", Type::kObject, &kRateLimits},
        {"EnvoyExtensions", Type::kObjectList, &kEnvoyExtension},
    })};

const Schema kMeshSchema{"structs.MeshConfigEntry",
                         withCommon({
                             {"TransparentProxy", Type::kObject, &kMeshTransparentProxy},
                             {"AllowEnablingPermissiveMutualTLS", Type::kBool},
                             {"ValidateClusters", Type::kBool},
                             {"TLS", Type::kObject, &kMeshTls},
                             {"HTTP", Type::kObject, &kMeshHttp},
                             {"Peering", Type::kObject, &kPeering},
                         })};

Status validateProxyDefaults(Json* e) {
  std::string name = str(*e, "Name");
  if (!name.empty() && name != "global") {
    return invalidArgument("invalid name (" + quote(name) + "), only \"global\" is supported");
  }
  (*e)["Name"] = "global";
  if (has(*e, "Config") && !(*e)["Config"].is_object()) {
    return invalidArgument("Config must be an object");
  }
  if (has(*e, "Config") && (*e)["Config"].contains("protocol")) {
    const Json& p = (*e)["Config"]["protocol"];
    if (!p.is_string()) return invalidArgument("Config.protocol must be a string");
  }
  return validateProxyShared(*e);
}

Status validateServiceDefaults(Json* e) {
  if (str(*e, "Name").empty()) return invalidArgument("Name is required");
  if (str(*e, "Name") == "*") {
    return invalidArgument("service-defaults name cannot be the wildcard '*'");
  }
  if (Status s = validateProxyShared(*e); !s) return s;
  if (has(*e, "Destination")) {
    const Json& d = (*e)["Destination"];
    if (!has(d, "Addresses") || d["Addresses"].empty()) {
      return invalidArgument("Destination.Addresses must contain at least one address");
    }
    if (Status s = validatePort(d, "Port", "Destination."); !s) return s;
  }
  if (has(*e, "UpstreamConfig") && has((*e)["UpstreamConfig"], "Overrides")) {
    const Json& ov = (*e)["UpstreamConfig"]["Overrides"];
    for (size_t i = 0; i < ov.size(); ++i) {
      if (str(ov[i], "Name").empty()) {
        return invalidArgument("error in upstream override at index " + std::to_string(i) +
                               ": Name is required");
      }
    }
  }
  for (const char* k :
       {"MaxInboundConnections", "LocalConnectTimeoutMs", "LocalRequestTimeoutMs"}) {
    if (has(*e, k) && (*e)[k].get<int64_t>() < 0) {
      return invalidArgument(std::string("invalid value for ") + k + ": must be >= 0");
    }
  }
  return Status::ok();
}

Status validateMesh(Json* e) {
  std::string name = str(*e, "Name");
  if (!name.empty() && name != "mesh") {
    return invalidArgument("invalid name (" + quote(name) + "), only \"mesh\" is supported");
  }
  (*e)["Name"] = "mesh";
  if (has(*e, "TLS")) {
    for (const char* dir : {"Incoming", "Outgoing"}) {
      if (!has((*e)["TLS"], dir)) continue;
      const Json& t = (*e)["TLS"][dir];
      int lo = tlsRank(str(t, "TLSMinVersion")), hi = tlsRank(str(t, "TLSMaxVersion"));
      if (lo != 0 && hi != 0 && lo > hi) {
        return invalidArgument(std::string("error parsing ") + dir + " TLS config: TLSMinVersion " +
                               quote(str(t, "TLSMinVersion")) +
                               " must be less than or equal to TLSMaxVersion " +
                               quote(str(t, "TLSMaxVersion")));
      }
    }
  }
  return Status::ok();
}

}  // namespace trellis::model::schema
