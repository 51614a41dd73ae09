#pragma once
// service-intentions config entries are the source of truth; the intention endpoints are views
// and edits of them. Each function takes the current entry (or none) and returns the entry to
// write (or none = delete the entry), so the caller applies one config-entry operation through
// the log and both APIs see the same state. Pure functions; IDs and timestamps come from the
// caller (time and randomness are injected).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "intentions/intention.h"
#include "model/config_entry.h"

namespace trellis::intentions {

// One intention per source, in the entry's (precedence) order, carrying the entry's indexes.
// Meta is the entry's Meta, or the source's LegacyMeta for legacy intentions (as Consul).
Result<std::vector<Intention>> toIntentions(const model::ConfigEntry& entry);

// Checks the fields every write path shares: names set, wildcards whole, namespace `default`
// (or `*`), SourceType `consul`, no partitions/peers (CE).
Status validateIntentionNames(const Intention& ixn);

// PUT /v1/connect/intentions/exact: upsert the source named ixn.source_name into the entry for
// ixn.destination_name. `existing` is that entry when present. Meta is refused (nowhere to put
// it), as in Consul.
Result<model::ConfigEntry> upsertBySourceName(const model::ConfigEntry* existing,
                                              const Intention& ixn);

// Legacy POST/PUT /v1/connect/intentions[/:id]: ixn.id, created_at and updated_at must be set by
// the caller. An existing source with the same legacy ID or source name is replaced and keeps its
// LegacyCreateTime. L7 permissions cannot be written through the legacy API.
Result<model::ConfigEntry> upsertLegacy(const model::ConfigEntry* existing, const Intention& ixn);

// DELETE by source name / legacy ID. nullopt result: the entry has no sources left and should be
// deleted. kNotFound when nothing matched.
Result<std::optional<model::ConfigEntry>> removeBySourceName(const model::ConfigEntry& entry,
                                                             std::string_view source_name);
Result<std::optional<model::ConfigEntry>> removeByLegacyId(const model::ConfigEntry& entry,
                                                           std::string_view id);

// Parses "name", "ns/name" (and "partition/ns/name", rejected unless `default`) as the exact,
// check and match endpoints accept them. Returns {namespace, name}.
Result<std::pair<std::string, std::string>> parseIntentionTarget(std::string_view s);

}  // namespace trellis::intentions
