#pragma once
// SIGINT/SIGTERM as a flag that long-running commands (`lock`, `watch`) poll, including from
// inside blocking HTTP calls (via RequestOptions::cancelled). The previous handlers are restored
// when the guard goes away. A signal handler can only reach process-wide state, hence the one
// static flag behind this class; only one guard may be alive at a time.

namespace trellis::cli {

class ShutdownSignals {
 public:
  ShutdownSignals();
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  bool triggered() const;
  // What the handler does; for tests and for callers that want to stop the command themselves.
  static void trigger();
};

}  // namespace trellis::cli
