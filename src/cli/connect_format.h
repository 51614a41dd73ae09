#pragma once
// Renderers for the `config`, `intention` and `connect ca` commands, reproducing what Consul's
// CLI prints from the Go API structs: Intention.String(), `intention get`/`list` tables, Go's
// json.MarshalIndent (HTML-safe escaping) and the CAConfig struct's field order. Pure functions.

#include <ctime>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::cli {

using OrderedJson = nlohmann::ordered_json;

// Go's %q for ordinary text: double quotes, with '"', '\\' and control characters escaped.
std::string goQuote(std::string_view s);

// Go's json.MarshalIndent(v, "", indent): keys in the order held, "key": value, '<', '>', '&',
// U+2028 and U+2029 escaped as \u003c... the way encoding/json does by default.
std::string goJsonIndent(const OrderedJson& v, std::string_view indent);

// api.Intention.String(): "web => db (allow)", "web => db (2 permissions)"; a namespace other
// than "default" is shown as "ns/name".
std::string intentionString(const nlohmann::json& ixn);

// `intention get` table (Source, Destination, Action, ID, Description, Meta[k], Created At),
// then "Permissions:" and their JSON when the intention has any. No final newline. CreatedAt
// is shown in the local time zone in Go's RFC850 layout.
std::string formatIntentionDetail(const nlohmann::json& ixn);

// `intention list` table: ID, Source, Action, Destination, Precedence. No final newline.
std::string formatIntentionList(const nlohmann::json& ixns);

// RFC 3339 text ("2024-05-01T10:00:00.123Z", "...+02:00") to Unix seconds.
Result<std::time_t> parseRfc3339(std::string_view text);

// Go time.RFC850 ("Monday, 02-Jan-06 15:04:05 MST") in the process's local zone.
std::string formatRfc850Local(std::time_t t);

// What api.CAConfig holds once a JSON document has been decoded into it (field names matched
// case-insensitively, unknown fields dropped, maps sorted like Go's), in struct field order:
// Provider, Config, State, ForceWithoutCrossSigning, CreateIndex, ModifyIndex.
Result<OrderedJson> asCaConfig(const nlohmann::json& in);

}  // namespace trellis::cli
