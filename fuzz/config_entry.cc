// Fuzzes config-entry decoding (every kind, both legacy modes), rendering, and the intention
// mapping and authorize path over whatever service-intentions entry decodes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "intentions/intention_set.h"
#include "intentions/mapping.h"
#include "model/config_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto in = nlohmann::json::parse(text, nullptr, false);
  if (in.is_discarded()) return 0;
  for (bool legacy : {false, true}) {
    trellis::model::DecodeOptions opts;
    opts.legacy_intentions = legacy;
    auto e = trellis::model::decodeConfigEntry(in, opts);
    if (!e) continue;
    auto rendered = trellis::model::renderConfigEntry(*e);
    auto again = trellis::model::decodeConfigEntry(nlohmann::json::parse(rendered.dump()), opts);
    if (!again || again->body != e->body) __builtin_trap();  // canonical form must be stable
    if (e->kind != trellis::model::kServiceIntentions) continue;
    auto ixns = trellis::intentions::toIntentions(*e);
    if (!ixns) __builtin_trap();
    auto set = trellis::intentions::IntentionSet::build(*ixns);
    for (const auto& ixn : *ixns) {
      (void)set->authorize(ixn.source_name, ixn.destination_name, {false, false});
      (void)trellis::intentions::renderIntention(ixn);
      (void)trellis::intentions::removeBySourceName(*e, ixn.source_name);
      if (!legacy) (void)trellis::intentions::upsertBySourceName(&*e, ixn);
    }
  }
  (void)trellis::intentions::decodeIntention(in);
  return 0;
}
