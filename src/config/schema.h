#pragma once
// The keys Consul's agent accepts in config files (agent/config/config.go, its nested structs and
// the deprecated top-level keys), with their value types and whether Trellis applies them yet.
// A key that is accepted but not implemented produces one warning per occurrence; a key that is
// not in this table is an error. When a module starts to honour a key (reading it from
// AgentConfig::merged), flip its `implemented` flag here so the warning goes away.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace trellis::config {

enum class KeyType {
  kBool,
  kInt,
  kUint,
  kFloat,
  kString,
  kDuration,  // Go duration string: "10s", "1m30s"
  kStringList,
  kStringMap,   // map[string]string: merged by replacement, like Consul
  kAnyMap,      // map[string]interface{}: opaque, not validated inside
  kObjectList,  // list of opaque objects (a single object is accepted as a list of one)
  kStruct,      // nested block with known keys
  kStructList,  // list of nested blocks with known keys
};

// Extra check on a value that already has the right type; returns "" or the reason it is bad.
using ValueCheck = std::string (*)(const nlohmann::json& value);

struct KeySpec {
  std::string name;
  KeyType type = KeyType::kString;
  bool implemented = false;
  std::vector<KeySpec> children;  // kStruct, kStructList
  ValueCheck check = nullptr;
};

// Top-level keys of an agent config file.
const std::vector<KeySpec>& agentConfigSchema();

// Finds a key among `specs` the way Consul's decoder does: exact name first, then a
// case-insensitive match. nullptr when Consul does not know the key.
const KeySpec* findKey(const std::vector<KeySpec>& specs, std::string_view name);

}  // namespace trellis::config
