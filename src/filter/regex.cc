#include "filter/regex.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filter/expression.h"

namespace trellis::filter::detail {
namespace {

constexpr uint64_t kMaxRepeat = 1000;         // RE2's limit on {n,m}
constexpr uint64_t kMaxExpandedAtoms = 4000;  // keeps the matcher's recursion shallow

struct Frame {
  uint64_t total = 0;  // atoms in this group so far
  uint64_t last = 0;   // atoms in the most recent atom or group, which a quantifier repeats
};

// Parses "{n}", "{n,}" or "{n,m}" at pattern[i]; returns the upper repeat count used for
// sizing (n + 1 for an open range) and advances i past it. Not a quantifier: nullopt.
std::optional<uint64_t> parseRepeat(std::string_view p, size_t& i, bool& tooLarge) {
  size_t j = i + 1;
  auto number = [&](uint64_t& out) {
    size_t start = j;
    out = 0;
    while (j < p.size() && p[j] >= '0' && p[j] <= '9') {
      out = std::min<uint64_t>(out * 10 + static_cast<uint64_t>(p[j] - '0'), 1'000'000);
      ++j;
    }
    return j > start;
  };
  uint64_t low = 0;
  uint64_t high = 0;
  if (!number(low)) return std::nullopt;
  high = low;
  if (j < p.size() && p[j] == ',') {
    ++j;
    if (!number(high)) high = low + 1;
  }
  if (j >= p.size() || p[j] != '}') return std::nullopt;
  tooLarge = low > kMaxRepeat || high > kMaxRepeat;
  i = j;
  return std::max(low, high);
}

// Estimates how many atoms the compiled automaton holds once counted repeats are expanded.
Status checkSize(std::string_view p) {
  std::vector<Frame> stack(1);
  auto addAtom = [&](uint64_t n) {
    stack.back().total += n;
    stack.back().last = n;
  };
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      ++i;
      addAtom(1);
    } else if (c == '[') {
      ++i;
      if (i < p.size() && p[i] == '^') ++i;
      while (i < p.size() && p[i] != ']') {
        if (p[i] == '\\') ++i;
        ++i;
      }
      addAtom(1);
    } else if (c == '(') {
      stack.emplace_back();
    } else if (c == ')' && stack.size() > 1) {
      uint64_t group = stack.back().total + 1;
      stack.pop_back();
      addAtom(group);
    } else if (c == '{') {
      bool tooLarge = false;
      auto reps = parseRepeat(p, i, tooLarge);
      if (tooLarge) return invalidArgument("repeat count exceeds " + std::to_string(kMaxRepeat));
      if (!reps) {
        addAtom(1);
        continue;
      }
      Frame& f = stack.back();
      uint64_t extra = f.last * (*reps > 0 ? *reps - 1 : 0);
      f.total += extra;
      f.last += extra;
    } else if (c == '|') {
      stack.back().last = 0;
    } else {
      addAtom(1);
    }
    if (stack.back().total > kMaxExpandedAtoms) {
      return invalidArgument("regular expression expands to too many states");
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::regex> compileRegex(std::string_view pattern) {
  if (pattern.size() > kMaxRegexBytes) {
    return invalidArgument("regular expression longer than " + std::to_string(kMaxRegexBytes) +
                           " bytes");
  }
  auto flags = std::regex::ECMAScript;
  constexpr std::string_view kCaseInsensitive = "(?i)";
  if (pattern.substr(0, kCaseInsensitive.size()) == kCaseInsensitive) {
    flags |= std::regex::icase;
    pattern.remove_prefix(kCaseInsensitive.size());
  }
#ifdef __GLIBCXX__
  flags |= std::regex_constants::__polynomial;
#endif
  if (Status s = checkSize(pattern); !s) return s;
  try {
    // Validate the pattern as written; the wrapper below would hide an unbalanced ')'.
    std::regex validated(pattern.begin(), pattern.end(), flags);
    (void)validated;
    // libstdc++ searches by rerunning the automaton from every start offset, which is quadratic
    // (`.*x.*` on 4 KiB of check output takes most of a second). A leading `[\s\S]*`
    // lets one anchored pass cover every start offset; `^` still only matches at offset 0.
    std::string wrapped = "[\\s\\S]*(?:";
    wrapped.append(pattern);
    wrapped += ')';
    return std::regex(wrapped, flags);
  } catch (const std::regex_error& e) {
    // Polynomial mode reports a backreference as a complexity error; RE2 has none either.
    if (e.code() == std::regex_constants::error_complexity) {
      return invalidArgument("backreferences are not supported");
    }
    std::string reason = e.what();
    if (!reason.empty() && reason.back() == '.') reason.pop_back();
    return invalidArgument(reason);
  } catch (const std::exception& e) {
    return invalidArgument(e.what());
  }
}

bool regexSearch(const std::regex& re, std::string_view subject) noexcept {
  try {
    return std::regex_search(subject.begin(), subject.end(), re,
                             std::regex_constants::match_continuous);
  } catch (...) {
    return false;
  }
}

}  // namespace trellis::filter::detail
