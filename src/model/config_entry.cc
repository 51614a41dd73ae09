#include "model/config_entry.h"

#include <array>

#include "model/config_entry_schema.h"

namespace trellis::model {
namespace {

using schema::Json;

struct KindInfo {
  std::string_view kind;
  const schema::Schema* schema;
};

// One readable table: kind -> schema. Validators are dispatched in validate() below.
const std::array<KindInfo, 9>& kinds() {
  static const std::array<KindInfo, 9> k = {{
      {kProxyDefaults, &schema::kProxyDefaultsSchema},
      {kServiceDefaults, &schema::kServiceDefaultsSchema},
      {kServiceIntentions, &schema::kServiceIntentionsSchema},
      {kMesh, &schema::kMeshSchema},
      {kServiceRouter, &schema::kServiceRouterSchema},
      {kServiceSplitter, &schema::kServiceSplitterSchema},
      {kServiceResolver, &schema::kServiceResolverSchema},
      {kIngressGateway, &schema::kIngressGatewaySchema},
      {kTerminatingGateway, &schema::kTerminatingGatewaySchema},
  }};
  return k;
}

const KindInfo* findKind(std::string_view kind) {
  for (const auto& k : kinds()) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

Status validate(std::string_view kind, Json* e, const DecodeOptions& opts) {
  if (Status s = schema::validateMeta(*e); !s) return s;
  if (kind == kProxyDefaults) return schema::validateProxyDefaults(e);
  if (kind == kServiceDefaults) return schema::validateServiceDefaults(e);
  if (kind == kServiceIntentions)
    return schema::validateServiceIntentions(e, opts.legacy_intentions);
  if (kind == kMesh) return schema::validateMesh(e);
  if (kind == kServiceRouter) return schema::validateServiceRouter(e);
  if (kind == kServiceSplitter) return schema::validateServiceSplitter(e);
  if (kind == kServiceResolver) return schema::validateServiceResolver(e);
  if (kind == kIngressGateway) return schema::validateIngressGateway(e);
  if (kind == kTerminatingGateway) return schema::validateTerminatingGateway(e);
  return Status::ok();
}

// Consul's PUT /v1/config prefixes decode failures with "Request decoding failed: ".
Status asConfigDecodeError(const Status& s) {
  static constexpr std::string_view kFrom = "Request decode failed: ";
  const std::string& m = s.message();
  if (m.rfind(kFrom, 0) == 0) {
    return invalidArgument("Request decoding failed: " + m.substr(kFrom.size()));
  }
  return s;
}

bool tooDeep(const nlohmann::json& v, int depth) {
  if (depth > 64) return true;
  if (v.is_object() || v.is_array()) {
    for (const auto& e : v) {
      if (tooDeep(e, depth + 1)) return true;
    }
  }
  return false;
}

Result<Json> parseBody(const ConfigEntry& e, std::string_view kind) {
  if (e.kind != kind) {
    return invalidArgument("config entry " + e.kind + "/" + e.name + " is not of kind " +
                           std::string(kind));
  }
  Json j = Json::parse(e.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return internalError("corrupt config entry body");
  return j;
}

}  // namespace

bool isSupportedKind(std::string_view kind) { return findKind(kind) != nullptr; }

Result<ConfigEntry> decodeConfigEntry(const nlohmann::json& in, const DecodeOptions& opts) {
  if (!in.is_object()) {
    return invalidArgument("Request decoding failed: json: cannot unmarshal " + jsonTypeName(in) +
                           " into Go value of type map[string]interface {}");
  }
  if (tooDeep(in, 0)) return invalidArgument("Request decoding failed: json: nesting too deep");
  // Kind decides the schema, so find it first (any casing: Kind, kind, KIND).
  auto fields = Fields::of(in, "structs.ConfigEntry");
  if (!fields) return asConfigDecodeError(fields.status());
  const nlohmann::json* kind_v = fields->take("Kind");
  if (kind_v == nullptr || !kind_v->is_string()) {
    return invalidArgument(
        "Request decoding failed: Payload does not contain a kind/Kind key at "
        "the top level");
  }
  std::string kind = kind_v->get<std::string>();
  const KindInfo* info = findKind(kind);
  if (info == nullptr) {
    return invalidArgument("Request decoding failed: invalid config entry kind: " + kind);
  }
  Json canonical;
  try {
    if (Status s = schema::canonicalize(in, *info->schema, &canonical); !s) {
      return asConfigDecodeError(s);
    }
    canonical["Kind"] = kind;
    if (Status s = validate(kind, &canonical, opts); !s) return s;
  } catch (const nlohmann::json::exception& ex) {
    return invalidArgument(std::string("Request decoding failed: ") + ex.what());
  }
  ConfigEntry out;
  out.kind = kind;
  out.name = schema::str(canonical, "Name");
  if (kind == kMesh) canonical.erase("Name");  // structs.MeshConfigEntry has no Name field
  out.body = canonical.dump();
  return out;
}

nlohmann::ordered_json renderConfigEntry(const ConfigEntry& e) {
  Json j = Json::parse(e.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) j = Json{{"Kind", e.kind}, {"Name", e.name}};
  j["CreateIndex"] = e.create_index;
  j["ModifyIndex"] = e.modify_index;
  return j;
}

std::string serviceProtocol(const ConfigEntry& e) {
  auto j = parseBody(e, kServiceDefaults);
  return j ? schema::str(*j, "Protocol") : "";
}

nlohmann::json proxyConfig(const ConfigEntry& e) {
  auto j = parseBody(e, kProxyDefaults);
  if (!j || !j->contains("Config")) return nlohmann::json::object();
  return nlohmann::json::parse((*j)["Config"].dump());
}

MeshSettings meshSettings(const ConfigEntry& e) {
  MeshSettings m;
  auto j = parseBody(e, kMesh);
  if (!j) return m;
  auto flag = [](const Json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_boolean() && o[k].get<bool>();
  };
  const Json empty = Json::object();
  auto obj = [&](const Json& o, const char* k) -> const Json& {
    return o.is_object() && o.contains(k) ? o[k] : empty;
  };
  m.mesh_destinations_only = flag(obj(*j, "TransparentProxy"), "MeshDestinationsOnly");
  m.allow_enabling_permissive_mtls = flag(*j, "AllowEnablingPermissiveMutualTLS");
  m.validate_clusters = flag(*j, "ValidateClusters");
  m.sanitize_xfcc = flag(obj(*j, "HTTP"), "SanitizeXForwardedClientCert");
  m.peer_through_mesh_gateways = flag(obj(*j, "Peering"), "PeerThroughMeshGateways");
  const Json& tls = obj(*j, "TLS");
  m.incoming_tls_min = schema::str(obj(tls, "Incoming"), "TLSMinVersion");
  m.incoming_tls_max = schema::str(obj(tls, "Incoming"), "TLSMaxVersion");
  m.outgoing_tls_min = schema::str(obj(tls, "Outgoing"), "TLSMinVersion");
  m.outgoing_tls_max = schema::str(obj(tls, "Outgoing"), "TLSMaxVersion");
  return m;
}

}  // namespace trellis::model
