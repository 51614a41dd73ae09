#pragma once
// The output of both config parsers (HCL and JSON): the value plus the source line of every key
// and every list element, keyed by JSON pointer ("/ports/http", "/service/1/name"). The loader
// uses the lines to name file:line in validation errors long after parsing is done.

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace trellis::config {

struct ParsedDocument {
  nlohmann::json value;
  std::map<std::string, int> lines;

  // 0 when the pointer has no recorded line (e.g. values synthesised from command-line flags).
  int lineOf(const std::string& pointer) const {
    auto it = lines.find(pointer);
    return it == lines.end() ? 0 : it->second;
  }
};

// Appends one reference token to a JSON pointer, escaping '~' and '/' as RFC 6901 requires.
inline std::string appendPointer(const std::string& pointer, std::string_view token) {
  std::string out = pointer;
  out.push_back('/');
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

inline std::string appendPointer(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

}  // namespace trellis::config
