#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>

#include "agent/checks/probe.h"
#include "agent/checks/tail_buffer.h"
#include "common/duration.h"

extern char** environ;

namespace trellis::agent::checks {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr std::chrono::seconds kDefaultTimeout{30};  // Consul's script default
constexpr size_t kDefaultOutputMax = 4096;
constexpr milliseconds kMaxReapPoll{50};

// Spawns argv in its own process group with stdout+stderr on one pipe (so a timeout can kill
// the whole tree), stdin on /dev/null and default signal handling. Returns the pid or -errno.
pid_t spawn(const std::vector<std::string>& args, int out_fd) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGCHLD);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -rc;
}

class ScriptProbe : public Probe {
 public:
  ScriptProbe(asio::io_context& io, std::shared_ptr<const CheckSpec> spec,
              std::shared_ptr<const std::vector<std::string>> argv)
      : io_(io),
        spec_(std::move(spec)),
        argv_(std::move(argv)),
        pipe_(io),
        deadline_(io),
        reap_timer_(io),
        output_(spec_->output_max_size > 0 ? spec_->output_max_size : kDefaultOutputMax) {}

  ~ScriptProbe() override {
    // Only reached with a live child if the loop was torn down mid-run.
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, WNOHANG);
    }
  }

 protected:
  void begin() override {
    auto self = std::static_pointer_cast<ScriptProbe>(shared_from_this());
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return post({kCritical, std::string("pipe: ") + std::strerror(errno)});
    }
    pid_t pid = spawn(*argv_, fds[1]);
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      // Go's wording: a bare name failed the PATH lookup, a path failed at exec.
      const std::string& prog = argv_->front();
      std::string msg = pid == -ENOENT && prog.find('/') == std::string::npos
                            ? "exec: \"" + prog + "\": executable file not found in $PATH"
                            : "fork/exec " + prog + ": " + std::strerror(-pid);
      return post({kCritical, std::move(msg)});
    }
    pid_ = pid;
    pipe_.assign(fds[0]);
    timeout_ = spec_->timeout.count() > 0 ? spec_->timeout : kDefaultTimeout;
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->onTimeout();
    });
    readMore();
  }

  void abort() override {
    deadline_.cancel();
    killGroup();
  }

 private:
  void post(CheckResult result) {
    auto self = shared_from_this();
    asio::post(io_, [self, this, r = std::move(result)]() mutable { finish(std::move(r)); });
  }

  void readMore() {
    auto self = std::static_pointer_cast<ScriptProbe>(shared_from_this());
    pipe_.async_read_some(asio::buffer(chunk_),
                          [self](const boost::system::error_code& ec, size_t n) {
                            self->output_.append(std::string_view(self->chunk_.data(), n));
                            if (!ec) return self->readMore();
                            // EOF, or the pipe was closed by a timeout/cancel: collect the child.
                            boost::system::error_code ignored;
                            self->pipe_.close(ignored);
                            self->reap_delay_ = milliseconds(0);
                            self->pollExit();
                          });
  }

  // The pipe closing does not mean the child has exited; poll rather than take SIGCHLD, whose
  // handler would be process-wide.
  void pollExit() {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) {
      auto self = std::static_pointer_cast<ScriptProbe>(shared_from_this());
      reap_delay_ = std::min(std::max(reap_delay_ * 2, milliseconds(1)), kMaxReapPoll);
      reap_timer_.expires_after(reap_delay_);
      reap_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->pollExit();
      });
      return;
    }
    pid_ = -1;
    deadline_.cancel();
    if (r < 0) return finish({kCritical, std::string("wait: ") + std::strerror(errno)});
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const char* state = code == 0 ? kPassing : code == 1 ? kWarning : kCritical;
    finish({state, capturedOutput()});
  }

  void onTimeout() {
    if (pid_ <= 0) return;
    killGroup();
    std::string msg = "Timed out (" + formatGoDuration(timeout_) + ") running check";
    std::string out = capturedOutput();
    if (!out.empty()) msg += "\n\n" + out;
    // Report now; the killed child is still reaped by pollExit once the read loop ends.
    finish({kCritical, std::move(msg)});
  }

  void killGroup() {
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
    boost::system::error_code ignored;
    pipe_.close(ignored);
  }

  std::string capturedOutput() const {
    if (!output_.truncated()) return output_.str();
    return "Captured " + std::to_string(output_.capacity()) + " of " +
           std::to_string(output_.total()) + " bytes\n...\n" + output_.str();
  }

  asio::io_context& io_;
  std::shared_ptr<const CheckSpec> spec_;
  std::shared_ptr<const std::vector<std::string>> argv_;
  asio::posix::stream_descriptor pipe_;
  asio::steady_timer deadline_;
  asio::steady_timer reap_timer_;
  milliseconds reap_delay_{0};
  std::chrono::nanoseconds timeout_{0};
  TailBuffer output_;
  std::array<char, 4096> chunk_{};
  pid_t pid_ = -1;
};

}  // namespace

ProbeFactory makeScriptProbeFactory(asio::io_context& io, std::shared_ptr<const CheckSpec> spec) {
  auto argv = std::make_shared<std::vector<std::string>>(spec->args);
  if (argv->empty() && !spec->shell_command.empty()) {
    *argv = {"/bin/sh", "-c", spec->shell_command};
  }
  if (argv->empty()) {
    CheckResult invalid{kCritical, "script check has neither args nor a shell command"};
    return [&io, invalid] { return makeFixedProbe(io, invalid); };
  }
  return [&io, spec, argv = std::shared_ptr<const std::vector<std::string>>(argv)] {
    return std::make_shared<ScriptProbe>(io, spec, argv);
  };
}

}  // namespace trellis::agent::checks
