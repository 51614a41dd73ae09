// Fuzzes the `?filter=` parser and evaluator: any input must either fail to parse with an
// error value or evaluate without crashing, hanging or throwing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "filter/expression.h"

namespace {

nlohmann::json buildElements() {
  // A ServiceEntry-like element touching every JSON type, plus degenerate elements.
  nlohmann::json elements = nlohmann::json::parse(R"([
    {
      "Node": {"Node": "web-01", "Address": "10.0.0.5", "Meta": {"rack": "r1", "x-y": ""}},
      "Service": {"ID": "web-1", "Service": "web", "Tags": ["v1", "primary"], "Port": 8080,
                  "Weight": 1.5, "Offset": -3, "EnableTagOverride": true,
                  "Meta": {"env": "prod", "a.b": "dot"}, "Proxy": null},
      "Checks": [
        {"CheckID": "serfHealth", "Status": "passing", "Tags": []},
        {"CheckID": "service:web-1", "Status": "critical", "Nums": [1, 2, 3]}
      ],
      "Grid": [[{"V": "a"}], [[{"V": "b"}]]]
    },
    null, 42, "web", [], {}
  ])");
  // Check output is the longest string filters see (4 KiB by default); slow regexes show here.
  elements[0]["Checks"][1]["Output"] = std::string(4000, 'x') + " 503 Service Unavailable";
  return elements;
}

const nlohmann::json& sampleElements() {
  static const nlohmann::json kElements = buildElements();
  return kElements;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = trellis::filter::Expression::parse(text);
  if (!expr.isOk()) return 0;
  for (const auto& element : sampleElements()) {
    (void)expr->matches(element);
  }
  return 0;
}
