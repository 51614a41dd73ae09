#pragma once
// Consul's StatusHandler: decides which run results are reported (see runner.h). Pure logic.

#include <optional>

#include "agent/checks/runner.h"

namespace trellis::agent::checks {

class FlapDamper {
 public:
  FlapDamper(int success_before_passing, int failures_before_warning, int failures_before_critical);
  // Returns the result to report, or nullopt while a threshold is not reached yet.
  std::optional<CheckResult> filter(CheckResult result);

 private:
  int success_before_passing_;
  int failures_before_warning_;
  int failures_before_critical_;
  // Start at the thresholds so that the very first result is reported at once.
  int successes_;
  int failures_;
};

}  // namespace trellis::agent::checks
