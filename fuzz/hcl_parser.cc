// Fuzz target for the agent config parsers: the same bytes go through the HCL parser and the
// JSON loader, and whatever parses is then validated against the Consul key schema, as the agent
// would. Neither may crash, hang or overflow the stack on any input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/hcl.h"
#include "config/json_loader.h"
#include "config/normalize.h"

namespace {

void exercise(const trellis::Result<trellis::config::ParsedDocument>& doc) {
  if (!doc.isOk()) return;
  std::vector<std::string> warnings;
  auto normalized = trellis::config::normalizeSource(doc.value(), "fuzz", warnings);
  if (normalized.isOk()) {
    nlohmann::json merged = nlohmann::json::object();
    trellis::config::mergeSources(merged, normalized.value());
    trellis::config::mergeSources(merged, normalized.value());
  }
  (void)doc.value().value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  int max_line = 1;
  for (char c : text) max_line += c == '\n';

  auto hcl = trellis::config::parseHcl(text);
  if (hcl.isOk()) {
    for (const auto& [ptr, line] : hcl->lines) {
      if (line < 1 || line > max_line) __builtin_trap();
    }
  }
  exercise(hcl);

  auto json = trellis::config::parseJsonDocument(text);
  if (json.isOk()) {
    for (const auto& [ptr, line] : json->lines) {
      if (line < 1 || line > max_line) __builtin_trap();
    }
  }
  exercise(json);
  return 0;
}
