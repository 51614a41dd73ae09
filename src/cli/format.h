#pragma once
// Text renderers that reproduce Consul's CLI output byte for byte: the `columnize` tables of
// `members` and `catalog nodes`, the `text/tabwriter` layouts of `kv get -detailed` and
// `catalog services -tags`, and the JSON shapes they read. Pure functions of their input.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/status.h"

namespace trellis::cli {

// ryanuber/columnize with Consul's settings: cells split on '\x1f' and trimmed, columns joined
// by two spaces, the last column unpadded, no trailing newline.
std::string columnize(const std::vector<std::string>& rows);

// Go text/tabwriter (flags 0, padchar ' '): '\t' terminates a cell; a column is as wide as its
// widest cell in a block of consecutive lines plus `padding`, at least `minWidth`.
std::string tabwrite(std::string_view text, size_t minWidth, size_t padding);


// `members` output from the GET /v1/agent/members body. Rows matching `statusRegex` only
// (ECMAScript syntax), servers first, then by segment, partition and name. Returns an empty
// string when no member is left (the command then exits 2).
Result<std::string> formatMembers(const nlohmann::json& members, bool detailed,
                                  std::string_view statusRegex);

// One KVPair (an element of GET /v1/kv/<key>) as `kv get -detailed` prints it, no final newline.
Result<std::string> formatKvDetailed(const nlohmann::json& pair, bool base64Value);

// The decoded Value of a KVPair ("" for null).
Result<std::string> kvValue(const nlohmann::json& pair);

// `catalog nodes` table from Node objects (ID, Node, Address, Datacenter, TaggedAddresses, Meta).
std::string formatNodes(const nlohmann::json& nodes, bool detailed);

}  // namespace trellis::cli
