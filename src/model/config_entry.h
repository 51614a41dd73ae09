#pragma once
// Config entries (PUT /v1/config and friends). An entry is stored as canonical JSON text in
// Consul's response shape (PascalCase keys in Go field order, durations as Go strings, protocol
// lowercased, intention sources sorted by precedence) plus kind, name and raft indexes, so the
// state store keeps one simple row per entry. Typed views exist for the kinds other modules read.
//
// Decoding accepts `Kind`/`kind`, PascalCase and snake_case keys (decode.h) and rejects unknown
// fields. Error messages:
//   schema problems      -> "Request decoding failed: json: unknown field \"Foo\"" (and the other
//                           decode.h reasons), "Request decoding failed: invalid config entry
//                           kind: <k>" -- exactly what Consul's PUT /v1/config answers;
//   semantic validation  -> Consul's Validate() wording, e.g. "Sources[0].Action must be set to
//                           'allow' or 'deny'", "invalid name (\"x\"), only \"global\" is
//                           supported".
// Everything is a pure function; no I/O, no threads, no exceptions escape.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::model {

inline constexpr std::string_view kProxyDefaults = "proxy-defaults";
inline constexpr std::string_view kServiceDefaults = "service-defaults";
inline constexpr std::string_view kServiceIntentions = "service-intentions";
inline constexpr std::string_view kMesh = "mesh";
inline constexpr std::string_view kServiceRouter = "service-router";
inline constexpr std::string_view kServiceSplitter = "service-splitter";
inline constexpr std::string_view kServiceResolver = "service-resolver";
inline constexpr std::string_view kIngressGateway = "ingress-gateway";
inline constexpr std::string_view kTerminatingGateway = "terminating-gateway";

struct ConfigEntry {
  std::string kind;
  std::string name;
  // Canonical JSON object: the response shape without CreateIndex/ModifyIndex.
  std::string body;
  uint64_t create_index = 0;
  uint64_t modify_index = 0;
};

struct DecodeOptions {
  // Intentions written through the legacy ID-based API keep LegacyID/LegacyMeta/timestamps and
  // must carry an Action; config-entry writes clear them (Consul's normalize(legacyWrite)).
  bool legacy_intentions = false;
};

bool isSupportedKind(std::string_view kind);

// Decodes, normalizes and validates a request body. Indexes in the body are ignored.
Result<ConfigEntry> decodeConfigEntry(const nlohmann::json& in, const DecodeOptions& opts = {});

// The entry as GET /v1/config/:kind/:name returns it.
nlohmann::ordered_json renderConfigEntry(const ConfigEntry& e);

// ---- Typed views -------------------------------------------------------------------------------

struct IntentionHeaderMatch {
  std::string name;
  bool present = false;
  std::string exact;
  std::string prefix;
  std::string suffix;
  std::string regex;
  bool invert = false;
};

struct IntentionHttpMatch {
  std::string path_exact;
  std::string path_prefix;
  std::string path_regex;
  std::vector<IntentionHeaderMatch> headers;
  std::vector<std::string> methods;  // uppercased
};

struct IntentionPermission {
  std::string action;  // allow | deny
  std::optional<IntentionHttpMatch> http;
  nlohmann::json jwt;  // null when absent; {Providers:[...]} otherwise
};

struct SourceIntention {
  std::string name;
  std::string peer;
  std::string sameness_group;
  std::string action;  // empty when permissions are set
  std::vector<IntentionPermission> permissions;
  int precedence = 0;
  std::string legacy_id;
  std::string type = "consul";
  std::string description;
  std::map<std::string, std::string> legacy_meta;
  std::string legacy_create_time;  // RFC 3339, empty when unset
  std::string legacy_update_time;
};

struct ServiceIntentions {
  std::string name;  // destination service or "*"
  std::vector<SourceIntention> sources;
  std::map<std::string, std::string> meta;
  nlohmann::json jwt;
};

// Precondition-free: fails with kInvalidArgument when `e` is not a service-intentions entry.
Result<ServiceIntentions> serviceIntentions(const ConfigEntry& e);
// Builds (normalizes, validates) a service-intentions entry from the typed form.
Result<ConfigEntry> makeServiceIntentions(const ServiceIntentions& si, bool legacy_write);
nlohmann::ordered_json toJson(const ServiceIntentions& si);
nlohmann::ordered_json toJson(const IntentionPermission& p);
Result<IntentionPermission> permissionFromJson(const nlohmann::json& canonical);
// Decodes a request's Permissions array (any key casing, snake_case); validation happens when
// the permissions are written into an entry (makeServiceIntentions).
Result<std::vector<IntentionPermission>> decodePermissions(const nlohmann::json& in);

// service-defaults Protocol (lowercase), "" when unset or another kind.
std::string serviceProtocol(const ConfigEntry& e);
// proxy-defaults Config map, {} when unset or another kind.
nlohmann::json proxyConfig(const ConfigEntry& e);

struct MeshSettings {
  bool mesh_destinations_only = false;
  bool allow_enabling_permissive_mtls = false;
  bool validate_clusters = false;
  bool sanitize_xfcc = false;
  bool peer_through_mesh_gateways = false;
  std::string incoming_tls_min;
  std::string incoming_tls_max;
  std::string outgoing_tls_min;
  std::string outgoing_tls_max;
};
MeshSettings meshSettings(const ConfigEntry& e);

}  // namespace trellis::model
