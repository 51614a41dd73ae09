#pragma once
// Child processes for `lock` and `watch` handlers. A child normally gets its own process group
// so that a `sh -c` pipeline is terminated as a whole when the lock is lost; with an inherited
// stdin it stays in ours (a background group reading the terminal would be stopped by SIGTTIN).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace trellis::cli {

struct ChildSpec {
  std::vector<std::string> argv;         // argv[0] is looked up in PATH
  std::vector<std::string> extraEnv;     // "NAME=value", added to (or replacing) ours
  std::optional<std::string> stdinData;  // fed through an unlinked temp file
  bool inheritStdin = false;             // otherwise stdin is /dev/null (or stdinData)
};

// {"/bin/sh", "-c", "<args joined by spaces>"} when shell, else args unchanged.
std::vector<std::string> childCommand(const std::vector<std::string>& args, bool shell);

Result<pid_t> spawnChild(const ChildSpec& spec);

// Exit code if the child has ended (128+signal when killed by a signal), without blocking.
std::optional<int> pollChild(pid_t pid);
int waitChild(pid_t pid);

// SIGTERM, then SIGKILL if the child has not ended after `grace`. Returns its exit code.
int terminateChild(pid_t pid, std::chrono::milliseconds grace);

}  // namespace trellis::cli
