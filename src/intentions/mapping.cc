#include "intentions/mapping.h"

#include <algorithm>
#include <functional>

namespace trellis::intentions {
namespace {

using model::ServiceIntentions;
using model::SourceIntention;

Status checkName(const std::string& v, const char* field) {
  if (v.empty()) return invalidArgument(std::string(field) + " must be set");
  if (v != kWildcard && v.find('*') != std::string::npos) {
    return invalidArgument(std::string(field) +
                           ": wildcard character '*' cannot be used with partial values");
  }
  return Status::ok();
}

Status checkNamespace(const std::string& ns, const char* field) {
  if (ns.empty() || ns == kDefaultNamespace) return Status::ok();
  return invalidArgument(std::string(field) + ": namespace " + ns +
                         " is not supported, only \"default\"");
}

Result<ServiceIntentions> current(const model::ConfigEntry* existing, const Intention& ixn) {
  if (existing == nullptr) {
    ServiceIntentions si;
    si.name = ixn.destination_name;
    return si;
  }
  auto si = model::serviceIntentions(*existing);
  if (!si) return si.status();
  if (si->name != ixn.destination_name) {
    return invalidArgument("entry is for destination " + si->name + ", not " +
                           ixn.destination_name);
  }
  return si;
}

SourceIntention toSource(const Intention& ixn) {
  SourceIntention s;
  s.name = ixn.source_name;
  s.action = ixn.action;
  s.permissions = ixn.permissions;
  s.type = ixn.source_type.empty() ? "consul" : ixn.source_type;
  s.description = ixn.description;
  return s;
}

// A write keeps every source: non-legacy entries are rewritten as config entries (legacy fields
// would be cleared), entries that already carry legacy sources stay legacy.
Result<model::ConfigEntry> write(const ServiceIntentions& si) {
  bool legacy = !si.sources.empty() &&
                std::all_of(si.sources.begin(), si.sources.end(),
                            [](const SourceIntention& s) { return !s.legacy_id.empty(); });
  return model::makeServiceIntentions(si, legacy);
}

Result<std::optional<model::ConfigEntry>> removeIf(
    const model::ConfigEntry& entry, const std::function<bool(const SourceIntention&)>& pred) {
  auto si = model::serviceIntentions(entry);
  if (!si) return si.status();
  auto it = std::find_if(si->sources.begin(), si->sources.end(), pred);
  if (it == si->sources.end()) return notFound("Intention not found");
  si->sources.erase(it);
  if (si->sources.empty()) return std::optional<model::ConfigEntry>();
  auto out = write(*si);
  if (!out) return out.status();
  out->create_index = entry.create_index;
  return std::optional<model::ConfigEntry>(std::move(*out));
}

}  // namespace

Result<std::vector<Intention>> toIntentions(const model::ConfigEntry& entry) {
  auto si = model::serviceIntentions(entry);
  if (!si) return si.status();
  std::vector<Intention> out;
  out.reserve(si->sources.size());
  for (const auto& src : si->sources) {
    Intention ixn;
    ixn.id = src.legacy_id;
    ixn.description = src.description;
    ixn.source_name = src.name;
    ixn.source_peer = src.peer;
    ixn.source_sameness_group = src.sameness_group;
    ixn.destination_name = si->name;
    ixn.source_type = src.type;
    ixn.action = src.action;
    ixn.permissions = src.permissions;
    ixn.meta = src.legacy_id.empty() ? si->meta : src.legacy_meta;
    ixn.precedence = src.precedence;
    ixn.created_at = src.legacy_create_time;
    ixn.updated_at = src.legacy_update_time;
    ixn.create_index = entry.create_index;
    ixn.modify_index = entry.modify_index;
    out.push_back(std::move(ixn));
  }
  return out;
}

Status validateIntentionNames(const Intention& ixn) {
  if (Status s = checkName(ixn.source_name, "SourceName"); !s) return s;
  if (Status s = checkName(ixn.destination_name, "DestinationName"); !s) return s;
  if (Status s = checkNamespace(ixn.source_ns, "SourceNS"); !s) return s;
  if (Status s = checkNamespace(ixn.destination_ns, "DestinationNS"); !s) return s;
  if (!ixn.source_partition.empty() && ixn.source_partition != "default") {
    return invalidArgument("SourcePartition: partitions are not supported");
  }
  if (!ixn.destination_partition.empty() && ixn.destination_partition != "default") {
    return invalidArgument("DestinationPartition: partitions are not supported");
  }
  if (!ixn.source_peer.empty()) return invalidArgument("SourcePeer: peering is not supported");
  if (ixn.source_type != "consul") return invalidArgument("SourceType must be set to 'consul'");
  return Status::ok();
}

Result<model::ConfigEntry> upsertBySourceName(const model::ConfigEntry* existing,
                                              const Intention& ixn) {
  if (Status s = validateIntentionNames(ixn); !s) return s;
  if (!ixn.meta.empty()) return invalidArgument("Meta must not be specified");
  auto si = current(existing, ixn);
  if (!si) return si.status();
  SourceIntention src = toSource(ixn);
  auto it = std::find_if(si->sources.begin(), si->sources.end(),
                         [&](const SourceIntention& s) { return s.name == ixn.source_name; });
  if (it != si->sources.end()) {
    *it = std::move(src);
  } else {
    si->sources.push_back(std::move(src));
  }
  // A config-entry style write: legacy fields of other sources are dropped, as Consul does.
  auto out = model::makeServiceIntentions(*si, false);
  if (out && existing != nullptr) out->create_index = existing->create_index;
  return out;
}

Result<model::ConfigEntry> upsertLegacy(const model::ConfigEntry* existing, const Intention& ixn) {
  if (Status s = validateIntentionNames(ixn); !s) return s;
  if (ixn.id.empty()) return invalidArgument("ID must be set for legacy intention writes");
  if (ixn.created_at.empty() || ixn.updated_at.empty()) {
    return invalidArgument("CreatedAt and UpdatedAt must be set for legacy intention writes");
  }
  if (!ixn.permissions.empty()) {
    return invalidArgument(
        "Permissions: L7 permissions cannot be set through the legacy "
        "intention API");
  }
  auto si = current(existing, ixn);
  if (!si) return si.status();
  for (const auto& s : si->sources) {
    if (s.legacy_id.empty()) {
      return invalidArgument("cannot mix legacy intentions with config-entry intentions for " +
                             si->name);
    }
  }
  SourceIntention src = toSource(ixn);
  src.legacy_id = ixn.id;
  src.legacy_meta = ixn.meta;
  src.legacy_create_time = ixn.created_at;
  src.legacy_update_time = ixn.updated_at;
  auto it = std::find_if(si->sources.begin(), si->sources.end(), [&](const SourceIntention& s) {
    return s.legacy_id == ixn.id || s.name == ixn.source_name;
  });
  if (it != si->sources.end()) {
    if (it->legacy_id != ixn.id) {
      return invalidArgument("duplicate intention found: " + cliString(ixn));
    }
    src.legacy_create_time = it->legacy_create_time;
    *it = std::move(src);
  } else {
    si->sources.push_back(std::move(src));
  }
  auto out = model::makeServiceIntentions(*si, true);
  if (out && existing != nullptr) out->create_index = existing->create_index;
  return out;
}

Result<std::optional<model::ConfigEntry>> removeBySourceName(const model::ConfigEntry& entry,
                                                             std::string_view source_name) {
  return removeIf(entry, [&](const SourceIntention& s) { return s.name == source_name; });
}

Result<std::optional<model::ConfigEntry>> removeByLegacyId(const model::ConfigEntry& entry,
                                                           std::string_view id) {
  return removeIf(entry,
                  [&](const SourceIntention& s) { return !id.empty() && s.legacy_id == id; });
}

Result<std::pair<std::string, std::string>> parseIntentionTarget(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    parts.emplace_back(s.substr(start, slash == std::string_view::npos ? s.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 3) {
    return invalidArgument("input can contain at most two '/'");
  }
  if (parts.size() == 3) {
    if (parts[0] != "default") return invalidArgument("partitions are not supported");
    parts.erase(parts.begin());
  }
  std::string ns = parts.size() == 2 ? parts[0] : std::string(kDefaultNamespace);
  std::string name = parts.back();
  if (name.empty()) return invalidArgument("must specify a service name");
  if (Status st = checkNamespace(ns, "namespace"); !st && ns != kWildcard) return st;
  return std::make_pair(ns, name);
}

}  // namespace trellis::intentions
