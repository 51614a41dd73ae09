#include "agent/checks/flap.h"

namespace trellis::agent::checks {

FlapDamper::FlapDamper(int success_before_passing, int failures_before_warning,
                       int failures_before_critical)
    : success_before_passing_(success_before_passing),
      failures_before_warning_(failures_before_warning > 0 ? failures_before_warning
                                                           : failures_before_critical),
      failures_before_critical_(failures_before_critical),
      successes_(success_before_passing),
      failures_(failures_before_critical) {}

std::optional<CheckResult> FlapDamper::filter(CheckResult result) {
  if (result.status == kPassing || result.status == kWarning) {
    ++successes_;
    failures_ = 0;
    if (successes_ >= success_before_passing_) return result;
    return std::nullopt;
  }
  ++failures_;
  successes_ = 0;
  if (failures_ >= failures_before_critical_) return result;
  if (failures_ >= failures_before_warning_) {
    result.status = kWarning;
    return result;
  }
  return std::nullopt;
}

}  // namespace trellis::agent::checks
