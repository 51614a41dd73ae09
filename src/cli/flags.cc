#include "cli/flags.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace trellis::cli {
namespace {

// strconv.ParseInt/ParseUint with base 0: decimal, 0x hex, 0o/0 octal, 0b binary, '_' allowed.
template <typename T>
std::optional<T> parseGoInt(std::string_view text) {
  std::string s(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.erase(0, 1);
  }
  if (s.empty() || (negative && std::is_unsigned_v<T>)) return std::nullopt;
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      s.erase(0, 2);
    } else {
      base = 8;
    }
  }
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long magnitude = std::strtoull(s.c_str(), &end, base);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  if constexpr (std::is_unsigned_v<T>) {
    return static_cast<T>(magnitude);
  } else {
    constexpr auto kMax = static_cast<unsigned long long>(INT64_MAX);
    if (magnitude > kMax + (negative ? 1 : 0)) return std::nullopt;
    return negative ? static_cast<T>(0 - magnitude) : static_cast<T>(magnitude);
  }
}

}  // namespace

std::optional<bool> parseGoBool(std::string_view t) {
  if (t == "1" || t == "t" || t == "T" || t == "TRUE" || t == "true" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "FALSE" || t == "false" || t == "False") {
    return false;
  }
  return std::nullopt;
}

void FlagSet::add(std::string name, Target target, std::string usage) {
  flags_.push_back(Flag{std::move(name), target, std::move(usage)});
}
void FlagSet::addBool(std::string n, bool* t, std::string u) { add(std::move(n), t, std::move(u)); }
void FlagSet::addString(std::string n, std::string* t, std::string u) {
  add(std::move(n), t, std::move(u));
}
void FlagSet::addInt(std::string n, int64_t* t, std::string u) {
  add(std::move(n), t, std::move(u));
}
void FlagSet::addUint64(std::string n, uint64_t* t, std::string u) {
  add(std::move(n), t, std::move(u));
}
void FlagSet::addDuration(std::string n, Nanos* t, std::string u) {
  add(std::move(n), t, std::move(u));
}
void FlagSet::addStringList(std::string n, std::vector<std::string>* t, std::string u) {
  add(std::move(n), t, std::move(u));
}
void FlagSet::addMap(std::string n, std::map<std::string, std::string>* t, std::string u) {
  add(std::move(n), t, std::move(u));
}

const FlagSet::Flag* FlagSet::find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status FlagSet::assign(const Flag& flag, const std::string& value, bool hasValue) {
  const std::string dashed = "-" + flag.name;
  auto invalid = [&](std::string_view why) {
    return invalidArgument("invalid value \"" + value + "\" for flag " + dashed + ": " +
                           std::string(why));
  };
  if (auto* b = std::get_if<bool*>(&flag.target)) {
    if (!hasValue) {
      **b = true;
      return Status::ok();
    }
    auto parsed = parseGoBool(value);
    if (!parsed) {
      return invalidArgument("invalid boolean value \"" + value + "\" for " + dashed +
                             ": parse error");
    }
    **b = *parsed;
    return Status::ok();
  }
  if (!hasValue) return invalidArgument("flag needs an argument: " + dashed);
  if (auto* s = std::get_if<std::string*>(&flag.target)) {
    **s = value;
  } else if (auto* i = std::get_if<int64_t*>(&flag.target)) {
    auto parsed = parseGoInt<int64_t>(value);
    if (!parsed) return invalid("parse error");
    **i = *parsed;
  } else if (auto* u = std::get_if<uint64_t*>(&flag.target)) {
    auto parsed = parseGoInt<uint64_t>(value);
    if (!parsed) return invalid("parse error");
    **u = *parsed;
  } else if (auto* d = std::get_if<Nanos*>(&flag.target)) {
    auto parsed = parseGoDuration(value);
    if (!parsed) return invalid("parse error");
    **d = *parsed;
  } else if (auto* l = std::get_if<std::vector<std::string>*>(&flag.target)) {
    (*l)->push_back(value);
  } else if (auto* m = std::get_if<std::map<std::string, std::string>*>(&flag.target)) {
    auto eq = value.find('=');
    if (eq == std::string::npos) return invalid("expected key=value");
    (**m)[value.substr(0, eq)] = value.substr(eq + 1);
  }
  return Status::ok();
}

Status FlagSet::parse(const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size()) {
    const std::string& s = args[i];
    if (s.size() < 2 || s[0] != '-') break;
    size_t dashes = 1;
    if (s[1] == '-') {
      dashes = 2;
      if (s.size() == 2) {  // "--" ends the flags and is consumed
        ++i;
        break;
      }
    }
    std::string name = s.substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      return invalidArgument("bad flag syntax: " + s);
    }
    ++i;
    std::string value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      hasValue = true;
    }
    const Flag* flag = find(name);
    if (flag == nullptr) {
      if (name == "help" || name == "h") {
        help_ = true;
        return invalidArgument("flag: help requested");
      }
      return invalidArgument("flag provided but not defined: -" + name);
    }
    if (!std::holds_alternative<bool*>(flag->target) && !hasValue && i < args.size()) {
      value = args[i++];
      hasValue = true;
    }
    if (Status st = assign(*flag, value, hasValue); !st) return st;
    set_.insert(name);
  }
  args_.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return Status::ok();
}

std::string FlagSet::describe() const {
  std::vector<const Flag*> sorted;
  for (const auto& f : flags_) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string out;
  for (const Flag* f : sorted) {
    out += "  -" + f->name;
    if (!std::holds_alternative<bool*>(f->target)) out += "=<value>";
    out += "\n     " + f->usage + "\n\n";
  }
  return out;
}

}  // namespace trellis::cli
