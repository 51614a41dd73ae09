#pragma once
// Go-style durations ("10s", "1m30s", "250ms", "72h") as Consul uses them in JSON and query
// parameters. Parsing follows time.ParseDuration: a sequence of decimal numbers with units
// ns, us (µs), ms, s, m, h; "0" alone is allowed; a bare number otherwise is an error.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trellis {

using Nanos = std::chrono::nanoseconds;

std::optional<Nanos> parseGoDuration(std::string_view text);
// Formats like Go's Duration.String(): "0s", "1.5s", "1m30s", "72h0m0s", "250ms".
std::string formatGoDuration(Nanos d);
// "2026-11-26T15:56:07Z" for a Unix time in seconds (UTC), as Go's time.Time marshals to JSON.
std::string formatRfc3339(int64_t unix_seconds);

}  // namespace trellis
