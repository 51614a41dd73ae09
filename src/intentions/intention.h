#pragma once
// The flat intention view that the /v1/connect/intentions endpoints and the CLI speak. Storage is
// service-intentions config entries (mapping.h); this is a projection of one entry source.
//
// Two renderings, both Consul's:
//   cliString()    -- api.Intention.String(), used by `intention create/get` output:
//                     "web => db (allow)", "web => db (1 permission)", "ns/web => db (deny)".
//   reasonString() -- structs.Intention.String(), used inside authorize reasons:
//                     "default/web => default/db (Precedence: 9, Action: ALLOW)",
//                     "default/web => default/db (ID: <id>, Precedence: 9, Permissions: 2)".

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/config_entry.h"

namespace trellis::intentions {

inline constexpr std::string_view kDefaultNamespace = "default";
inline constexpr std::string_view kWildcard = "*";

struct Intention {
  std::string id;  // LegacyID; empty for intentions written as config entries
  std::string description;
  std::string source_ns{kDefaultNamespace};
  std::string source_name;
  std::string destination_ns{kDefaultNamespace};
  std::string destination_name;
  std::string source_partition;  // Ent; rendered only when set
  std::string destination_partition;
  std::string source_peer;
  std::string source_sameness_group;
  std::string source_type = "consul";
  std::string action;  // allow | deny; empty when permissions are set
  std::vector<model::IntentionPermission> permissions;
  std::map<std::string, std::string> meta;
  int precedence = 0;
  std::string created_at;  // RFC 3339; empty renders Go's zero time
  std::string updated_at;
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool isL7() const { return !permissions.empty(); }
};

// Consul's precedence table: base 9/6/3 for 2/1/0 exact destination parts (namespace, name),
// minus (2 - exact source parts). A wildcard namespace forces its name to count as wildcard too.
int computePrecedence(std::string_view src_ns, std::string_view src_name, std::string_view dst_ns,
                      std::string_view dst_name);

// Consul's IntentionPrecedenceSorter: precedence descending, then (SourceNS, SourceName,
// DestinationNS, DestinationName) ascending.
bool precedenceBefore(const Intention& a, const Intention& b);

std::string cliString(const Intention& ixn);
std::string reasonString(const Intention& ixn);

// The Intention JSON object of /v1/connect/intentions responses.
nlohmann::ordered_json renderIntention(const Intention& ixn);

// Decodes an Intention request body (exact PUT, legacy POST/PUT): any key casing, snake_case,
// unknown keys rejected. Read-only fields (Precedence, indexes, timestamps, Hash) are ignored.
Result<Intention> decodeIntention(const nlohmann::json& body);

}  // namespace trellis::intentions
