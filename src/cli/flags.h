#pragma once
// Command-line flags with the semantics of Go's `flag` package, which every Consul command uses:
// `-name` and `--name` are the same; values are given as `-name=value` or `-name value`; a bool
// flag takes no separate argument (`-name`, `-name=false`); parsing stops at the first argument
// that is not a flag, or after `--`; `-h`/`-help` ask for help. Values are written straight into
// the caller's variables, which keep their defaults when a flag is absent.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/duration.h"
#include "common/status.h"

namespace trellis::cli {

class FlagSet {
 public:
  void addBool(std::string name, bool* target, std::string usage);
  void addString(std::string name, std::string* target, std::string usage);
  void addInt(std::string name, int64_t* target, std::string usage);
  void addUint64(std::string name, uint64_t* target, std::string usage);
  void addDuration(std::string name, Nanos* target, std::string usage);
  // Repeatable: each occurrence appends.
  void addStringList(std::string name, std::vector<std::string>* target, std::string usage);
  // Repeatable `key=value`: each occurrence sets one entry.
  void addMap(std::string name, std::map<std::string, std::string>* target, std::string usage);

  // Errors carry Go's wording ("flag provided but not defined: -x"). After a successful parse,
  // args() holds the remaining positional arguments.
  Status parse(const std::vector<std::string>& args);

  bool helpRequested() const { return help_; }
  bool isSet(std::string_view name) const { return set_.count(std::string(name)) > 0; }
  const std::vector<std::string>& args() const { return args_; }

  // One entry per flag, sorted by name: "  -name=<value>\n     usage\n\n".
  std::string describe() const;

 private:
  using Target = std::variant<bool*, std::string*, int64_t*, uint64_t*, Nanos*,
                              std::vector<std::string>*, std::map<std::string, std::string>*>;
  struct Flag {
    std::string name;
    Target target;
    std::string usage;
  };

  void add(std::string name, Target target, std::string usage);
  const Flag* find(std::string_view name) const;
  Status assign(const Flag& flag, const std::string& value, bool hasValue);

  std::vector<Flag> flags_;
  std::vector<std::string> args_;
  std::set<std::string> set_;
  bool help_ = false;
};

// Go's strconv.ParseBool.
std::optional<bool> parseGoBool(std::string_view text);

}  // namespace trellis::cli
