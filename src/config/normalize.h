#pragma once
// Validation and merging of parsed config sources against the Consul key schema.
//
// normalizeSource() checks one source (a file, an -hcl snippet, or the command-line flags) on its
// own, while its line numbers are still at hand, and returns it in canonical form: key names as
// Consul spells them, blocks that HCL repeated folded into one object, single objects where a
// list is expected wrapped in a list, and service/check folded into services/checks.
// mergeSources() then combines canonical sources like Consul's config merge: nested blocks merge
// key by key, later scalars win, lists are concatenated, and maps are replaced whole.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/parsed_document.h"

namespace trellis::config {

// `source` names the origin in messages ("/etc/consul.d/a.hcl"). Errors and warnings read
// "<source>:<line>: ..." (or "<source>: ..." when the key has no line). Accepted keys that
// Trellis does not implement append one warning each to `warnings`.
Result<nlohmann::json> normalizeSource(const ParsedDocument& doc, const std::string& source,
                                       std::vector<std::string>& warnings);

// Merges canonical `src` into canonical `dst` (later sources win).
void mergeSources(nlohmann::json& dst, const nlohmann::json& src);

}  // namespace trellis::config
