#include "intentions/intention_set.h"

#include <algorithm>

namespace trellis::intentions {
namespace {

// Peered and sameness-group sources name services in another cluster; a local SPIFFE source
// never matches them.
bool localSource(const Intention& ixn) {
  return ixn.source_peer.empty() && ixn.source_sameness_group.empty();
}

void mergeInto(const std::vector<uint32_t>* a, const std::vector<uint32_t>* b,
               std::vector<uint32_t>* out) {
  static const std::vector<uint32_t> kEmpty;
  if (a == nullptr) a = &kEmpty;
  if (b == nullptr) b = &kEmpty;
  out->reserve(a->size() + b->size());
  std::merge(a->begin(), a->end(), b->begin(), b->end(), std::back_inserter(*out));
}

}  // namespace

std::shared_ptr<const IntentionSet> IntentionSet::build(std::vector<Intention> intentions) {
  std::shared_ptr<IntentionSet> set(new IntentionSet());
  std::stable_sort(intentions.begin(), intentions.end(), precedenceBefore);
  set->all_ = std::move(intentions);
  set->reasons_.reserve(set->all_.size());
  for (uint32_t i = 0; i < set->all_.size(); ++i) {
    const Intention& ixn = set->all_[i];
    set->reasons_.push_back((ixn.isL7() ? "Matched L7 intention: " : "Matched L4 intention: ") +
                            reasonString(ixn));
    set->list_by_source_[ixn.source_name].push_back(i);
    set->list_by_dest_[ixn.destination_name].push_back(i);
    if (!localSource(ixn)) continue;
    Dest& d = set->by_dest_[ixn.destination_name];
    if (ixn.source_name == kWildcard) {
      if (d.wildcard_source < 0) d.wildcard_source = i;
    } else {
      d.by_source.emplace(ixn.source_name, i);  // keeps the first (highest precedence)
    }
  }
  auto it = set->by_dest_.find(kWildcard);
  set->wildcard_dest_ = it == set->by_dest_.end() ? nullptr : &it->second;
  return set;
}

std::vector<const Intention*> IntentionSet::match(MatchType type, std::string_view name) const {
  const ListMap& lists = type == MatchType::kSource ? list_by_source_ : list_by_dest_;
  auto find = [&](std::string_view n) -> const std::vector<uint32_t>* {
    auto it = lists.find(n);
    return it == lists.end() ? nullptr : &it->second;
  };
  std::vector<uint32_t> idx;
  mergeInto(find(name), name == kWildcard ? nullptr : find(kWildcard), &idx);
  std::vector<const Intention*> out;
  out.reserve(idx.size());
  for (uint32_t i : idx) out.push_back(&all_[i]);
  return out;
}

const Intention* IntentionSet::lookup(const Dest& d, std::string_view src) const {
  auto it = d.by_source.find(src);
  if (it != d.by_source.end()) return &all_[it->second];
  if (d.wildcard_source >= 0) return &all_[d.wildcard_source];
  return nullptr;
}

const Intention* IntentionSet::winning(std::string_view src, std::string_view dst) const {
  auto it = by_dest_.find(dst);
  if (it != by_dest_.end()) {
    if (const Intention* m = lookup(it->second, src)) return m;
  }
  if (wildcard_dest_ != nullptr && dst != kWildcard) return lookup(*wildcard_dest_, src);
  return nullptr;
}

Decision IntentionSet::authorize(std::string_view src, std::string_view dst,
                                 const DefaultPolicy& def) const {
  Decision d;
  if (const Intention* m = winning(src, dst)) {
    d.match = m;
    d.authorized = !m->isL7() && m->action == "allow";
    d.reason = reasons_[static_cast<size_t>(m - all_.data())];
    return d;
  }
  d.authorized = def.allow;
  d.reason = def.from_intention_policy ? kReasonDefaultIntentionPolicy : kReasonDefaultAcls;
  return d;
}

}  // namespace trellis::intentions
