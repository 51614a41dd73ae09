#pragma once
// Reading config sources from disk: files in the -config-format if given, else by extension
// (.json/.hcl); directories as their *.json and *.hcl files (every file with -config-format) in
// lexical order. Parse errors are prefixed with
// the file name: "<file>: line N, column M: reason".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/flags.h"
#include "config/parsed_document.h"

namespace trellis::config {

struct ConfigSource {
  std::string name;  // file path, or a label for snippets and flags
  ParsedDocument doc;
};

// Parses `text` as "json" or "hcl". Blank text is an empty config, as in Consul.
Result<ParsedDocument> parseConfigText(std::string_view text, std::string_view format);

Result<std::vector<ConfigSource>> readConfigPaths(const std::vector<ConfigPath>& paths,
                                                  const std::optional<std::string>& format);

}  // namespace trellis::config
