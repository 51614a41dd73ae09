#pragma once
// Internal to config_entry*.cc: a declarative schema per kind. canonicalize() walks a request
// body with decode.h's Fields (case-insensitive keys, snake_case aliases, unknown keys rejected),
// checks JSON types and enums, and emits canonical JSON in the schema's field order. Semantic,
// cross-field rules live in the per-kind validators that run on the canonical output.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/decode.h"

namespace trellis::model::schema {

using Json = nlohmann::ordered_json;

enum class Type {
  kString,
  kBool,
  kInt,
  kUint,
  kFloat,
  kDuration,  // Go duration string or integer nanoseconds; canonical form is the Go string
  kStrings,
  kUints,
  kStringMap,
  kAny,         // opaque JSON value kept as is (Config, Arguments)
  kObject,      // nested schema
  kObjectList,  // array of nested schema
  kObjectMap,   // map of name -> nested schema
};

struct Schema;

struct Field {
  const char* name;
  Type type;
  const Schema* sub = nullptr;
  std::vector<const char*> enums = {};  // allowed string values ("" always allowed)
  bool lowercase = false;               // normalize string to lowercase before the enum check
  bool drop = false;                    // accepted on input, not kept (indexes, CE namespace)
};

struct Schema {
  const char* go_type;
  std::vector<Field> fields;
};

// Kind, Name, CE Namespace/Partition (accepted as "default", not kept), the kind's own fields,
// Meta and the ignored raft indexes: the frame every top-level schema shares.
inline std::vector<Field> withCommon(std::vector<Field> fields) {
  std::vector<Field> out = {{"Kind", Type::kString},
                            {"Name", Type::kString},
                            {"Namespace", Type::kString, nullptr, {"default"}, false, true},
                            {"Partition", Type::kString, nullptr, {"default"}, false, true}};
  out.insert(out.end(), fields.begin(), fields.end());
  out.push_back({"Meta", Type::kStringMap});
  out.push_back({"CreateIndex", Type::kUint, nullptr, {}, false, true});
  out.push_back({"ModifyIndex", Type::kUint, nullptr, {}, false, true});
  return out;
}

Status canonicalize(const InJson& in, const Schema& s, Json* out, int depth = 0);

// Shared sub-schemas used by several kinds.
extern const Schema kMeshGateway;
extern const Schema kTransparentProxy;
extern const Schema kExpose;
extern const Schema kAccessLogs;
extern const Schema kEnvoyExtension;
extern const Schema kFailoverPolicy;
extern const Schema kPrioritizeByLocality;
extern const Schema kPassiveHealthCheck;
extern const Schema kUpstreamConfiguration;
extern const Schema kDestination;
extern const Schema kRateLimits;
extern const Schema kHeaderModifiers;
extern const Schema kHeaderMatch;
extern const Schema kJwtRequirement;
extern const Schema& kPermissionSchema;

// Per-kind top-level schemas.
extern const Schema kProxyDefaultsSchema;
extern const Schema kServiceDefaultsSchema;
extern const Schema kServiceIntentionsSchema;
extern const Schema kMeshSchema;
extern const Schema kServiceRouterSchema;
extern const Schema kServiceSplitterSchema;
extern const Schema kServiceResolverSchema;
extern const Schema kIngressGatewaySchema;
extern const Schema kTerminatingGatewaySchema;

// Semantic validators; they may normalize the canonical JSON in place.
Status validateMeta(const Json& entry);
Status validateProxyDefaults(Json* entry);
Status validateServiceDefaults(Json* entry);
Status validateMesh(Json* entry);
Status validateServiceIntentions(Json* entry, bool legacy_write);
Status validateServiceRouter(Json* entry);
Status validateServiceSplitter(Json* entry);
Status validateServiceResolver(Json* entry);
Status validateIngressGateway(Json* entry);
Status validateTerminatingGateway(Json* entry);

// Helpers for validators.
std::string str(const Json& obj, const char* key);
bool has(const Json& obj, const char* key);
std::string quote(const std::string& s);  // Go %q for printable strings

}  // namespace trellis::model::schema
