#pragma once
// The L4 RBAC network filter's decision: compiled once per config (regexes built with RE2, errors
// returned as values), then evaluated per connection and again on every open connection when the
// policy changes. Compiled objects are immutable and shared across workers.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proxy/config.h"

namespace re2 {
class RE2;
}

namespace trellis::proxy::data {

struct RbacDecision {
  bool allowed = true;
  // The policy that decided: the matching one, or "" when no policy matched and the action's
  // default applied (ALLOW list without a match => denied; DENY list without a match => allowed).
  std::string_view policy;
};

class CompiledRbac {
 public:
  // Compiles every principal; a bad regex or a malformed tree (kNot without exactly one child)
  // fails the whole policy set, since dropping one rule could widen access.
  static Result<std::shared_ptr<const CompiledRbac>> compile(const Rbac& rbac);
  ~CompiledRbac();

  // `peer_uri` is the peer's SPIFFE ID, empty when it presented none.
  RbacDecision evaluate(std::string_view peer_uri) const;

  // A canonical rendering of the source policy: equal fingerprints mean equal decisions, so a
  // config push that leaves RBAC alone does not re-check open connections.
  const std::string& fingerprint() const { return fingerprint_; }

  struct Node;

 private:
  CompiledRbac();

  Rbac::Action action_ = Rbac::Action::kAllow;
  struct Policy;
  std::vector<Policy> policies_;
  std::string fingerprint_;
};
using CompiledRbacPtr = std::shared_ptr<const CompiledRbac>;

}  // namespace trellis::proxy::data
