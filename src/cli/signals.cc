#include "cli/signals.h"

#include <signal.h>

#include <atomic>

namespace trellis::cli {
namespace {

std::atomic<bool> gShutdown{false};
static_assert(std::atomic<bool>::is_always_lock_free, "needed in a signal handler");

struct sigaction gOldInt;
struct sigaction gOldTerm;

void onSignal(int) { gShutdown.store(true); }

}  // namespace

ShutdownSignals::ShutdownSignals() {
  gShutdown.store(false);
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &gOldInt);
  sigaction(SIGTERM, &sa, &gOldTerm);
}

ShutdownSignals::~ShutdownSignals() {
  sigaction(SIGINT, &gOldInt, nullptr);
  sigaction(SIGTERM, &gOldTerm, nullptr);
}

bool ShutdownSignals::triggered() const { return gShutdown.load(); }

void ShutdownSignals::trigger() { gShutdown.store(true); }

}  // namespace trellis::cli
