#include "cli/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

extern char** environ;

namespace trellis::cli {
namespace {

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Temp file holding the child's stdin: unlike a pipe it cannot deadlock on large inputs.
Result<int> stdinFile(const std::string& data) {
  FILE* f = std::tmpfile();
  if (f == nullptr) return internalError(std::string("tmpfile: ") + std::strerror(errno));
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
    std::fclose(f);
    return internalError("writing handler input failed");
  }
  std::fflush(f);
  int fd = ::dup(::fileno(f));
  std::fclose(f);
  if (fd < 0) return internalError(std::string("dup: ") + std::strerror(errno));
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

std::vector<std::string> childCommand(const std::vector<std::string>& args, bool shell) {
  if (!shell) return args;
  std::string script;
  for (const auto& a : args) {
    if (!script.empty()) script += ' ';
    script += a;
  }
  return {"/bin/sh", "-c", script};
}

Result<pid_t> spawnChild(const ChildSpec& spec) {
  if (spec.argv.empty()) return invalidArgument("no command given");
  std::vector<std::string> envStrings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& extra : spec.extraEnv) {
      if (extra.compare(0, name.size() + 1, name + "=") == 0) overridden = true;
    }
    if (!overridden) envStrings.push_back(std::move(entry));
  }
  envStrings.insert(envStrings.end(), spec.extraEnv.begin(), spec.extraEnv.end());
  std::vector<char*> envp, argv;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argvCopy = spec.argv;
  for (auto& s : argvCopy) argv.push_back(s.data());
  argv.push_back(nullptr);

  int inputFd = -1;
  if (spec.stdinData) {
    auto fd = stdinFile(*spec.stdinData);
    if (!fd) return fd.status();
    inputFd = *fd;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  if (inputFd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, inputFd, STDIN_FILENO);
    posix_spawn_file_actions_addclose(&actions, inputFd);
  } else if (!spec.inheritStdin) {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (!spec.inheritStdin) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (inputFd >= 0) ::close(inputFd);
  if (rc != 0) {
    return internalError("exec " + spec.argv[0] + ": " + std::strerror(rc));
  }
  return pid;
}

std::optional<int> pollChild(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return exitCodeOf(status);
  if (r < 0 && errno != EINTR) return 1;  // already reaped or not ours
  return std::nullopt;
}

int waitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  return exitCodeOf(status);
}

int terminateChild(pid_t pid, std::chrono::milliseconds grace) {
  // A group leader of its own group is signalled with its descendants; otherwise only itself.
  auto signal = [pid](int sig) {
    if (::getpgid(pid) == pid) {
      ::kill(-pid, sig);
    } else {
      ::kill(pid, sig);
    }
  };
  signal(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = pollChild(pid)) return *code;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  signal(SIGKILL);
  return waitChild(pid);
}

}  // namespace trellis::cli
