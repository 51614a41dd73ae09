#pragma once
// Builds ResourceSets from plain bodies, for tests, the fuzz target and benchmarks.

#include <map>
#include <memory>
#include <string>

#include "xds/resources.h"

namespace trellis::xds::testing {

// type_url -> name -> body
using Bodies = std::map<std::string, std::map<std::string, std::string>>;

inline ResourceSetPtr makeSet(uint64_t index, const Bodies& bodies, bool complete = true) {
  auto set = std::make_shared<ResourceSet>();
  set->index = index;
  set->complete = complete;
  for (const auto& [type, named] : bodies) {
    auto& out = set->by_type[type];
    for (const auto& [name, body] : named) out.emplace(name, makeResource(name, body));
  }
  return set;
}

}  // namespace trellis::xds::testing
