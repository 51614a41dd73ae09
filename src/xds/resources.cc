#include "xds/resources.h"

#include <cstdio>

namespace trellis::xds {

namespace {

// FNV-1a, 64 bits, over the bytes and their length: stable across runs and machines, which is all
// a version needs (it only has to change when the bytes do).
uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= bytes.size();
  h *= 1099511628211ULL;
  return h;
}

}  // namespace

ResourcePtr makeResource(std::string name, std::string body) {
  auto r = std::make_shared<Resource>();
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a(body)));
  r->name = std::move(name);
  r->body = std::move(body);
  r->version = hex;
  return r;
}

}  // namespace trellis::xds
