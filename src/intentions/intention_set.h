#pragma once
// An immutable, indexed snapshot of every intention, built once per state change and shared as
// std::shared_ptr<const IntentionSet>; readers on any thread never lock. Match, check and
// authorize are pure functions of the snapshot plus the default policy.
//
// Matching in CE (one namespace): for a (source, destination) pair the winning intention is the
// first of (dst, src) 9, (dst, *) 8, (*, src) 6, (*, *) 5 that exists -- four hash lookups, no
// allocation, which is what makes authorize fast. Intentions whose source is a peer or a sameness
// group never match a local source.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "intentions/intention.h"

namespace trellis::intentions {

enum class MatchType { kSource, kDestination };

// What happens when no intention matches. `from_intention_policy` is set when the operator
// configured default_intention_policy explicitly; otherwise the default follows the ACL default
// policy (allow when ACLs are disabled), and the reason strings differ accordingly.
struct DefaultPolicy {
  bool allow = true;
  bool from_intention_policy = false;
};

struct Decision {
  bool authorized = false;
  std::string_view reason;           // valid as long as the IntentionSet lives
  const Intention* match = nullptr;  // nullptr: the default decided
};

inline constexpr std::string_view kReasonDefaultIntentionPolicy = "Default intention policy";
inline constexpr std::string_view kReasonDefaultAcls = "Default behavior configured by ACLs";

class IntentionSet {
 public:
  static std::shared_ptr<const IntentionSet> build(std::vector<Intention> intentions);
  IntentionSet(const IntentionSet&) = delete;
  IntentionSet& operator=(const IntentionSet&) = delete;

  // Every intention, ordered by precedence (Consul's sorter).
  const std::vector<Intention>& all() const { return all_; }

  // /v1/connect/intentions/match: intentions whose source (or destination) is `name` or `*`,
  // highest precedence first.
  std::vector<const Intention*> match(MatchType type, std::string_view name) const;

  // The highest-precedence intention that applies to src -> dst, or nullptr.
  const Intention* winning(std::string_view src, std::string_view dst) const;

  // /v1/agent/connect/authorize: L4 intentions decide by Action, any L7 intention denies (the
  // endpoint sees no request attributes), otherwise the default.
  Decision authorize(std::string_view src, std::string_view dst, const DefaultPolicy& def) const;

  // /v1/connect/intentions/check: same decision, without the reason.
  bool check(std::string_view src, std::string_view dst, const DefaultPolicy& def) const {
    return authorize(src, dst, def).authorized;
  }

 private:
  IntentionSet() = default;

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>>;
  struct Dest {
    Index by_source;
    int64_t wildcard_source = -1;
  };
  using DestMap = std::unordered_map<std::string, Dest, Hash, std::equal_to<>>;
  using ListMap = std::unordered_map<std::string, std::vector<uint32_t>, Hash, std::equal_to<>>;

  const Intention* lookup(const Dest& d, std::string_view src) const;

  std::vector<Intention> all_;
  std::vector<std::string> reasons_;  // "Matched L4/L7 intention: ..." per intention
  DestMap by_dest_;
  const Dest* wildcard_dest_ = nullptr;
  ListMap list_by_source_;
  ListMap list_by_dest_;
};

}  // namespace trellis::intentions
