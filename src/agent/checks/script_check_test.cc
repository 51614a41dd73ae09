#include <signal.h>

#include <gtest/gtest.h>
#include <fstream>

#include "agent/checks/runner.h"
#include "agent/checks/test_util.h"

namespace trellis::agent::checks {
namespace {

using std::chrono::milliseconds;
using testing::runOnce;

CheckSpec shellSpec(const std::string& command) {
  CheckSpec spec;
  spec.check_id = "script";
  spec.kind = "script";
  spec.shell_command = command;
  spec.timeout = std::chrono::seconds(3);
  return spec;
}

// True once `pid` is gone or a zombie (reparented orphans may not be reaped in containers).
bool processDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] == 'Z';
}

TEST(ScriptCheckTest, ExitCodesMapToStatus) {
  boost::asio::io_context io;
  CheckResult ok = runOnce(io, shellSpec("echo hello; exit 0"));
  EXPECT_EQ(ok.status, kPassing);
  EXPECT_EQ(ok.output, "hello\n");
  EXPECT_EQ(runOnce(io, shellSpec("exit 1")).status, kWarning);
  EXPECT_EQ(runOnce(io, shellSpec("exit 2")).status, kCritical);
  EXPECT_EQ(runOnce(io, shellSpec("kill -9 $$")).status, kCritical);
}

TEST(ScriptCheckTest, ArgsRunDirectlyAndCaptureStderr) {
  boost::asio::io_context io;
  CheckSpec spec = shellSpec("");
  spec.args = {"sh", "-c", "echo out; echo err >&2; exit 1"};
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kWarning);
  EXPECT_EQ(r.output, "out\nerr\n");
}

TEST(ScriptCheckTest, MissingExecutableIsCritical) {
  boost::asio::io_context io;
  CheckSpec spec = shellSpec("");
  spec.args = {"trellis-no-such-program"};
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "exec: \"trellis-no-such-program\": executable file not found in $PATH");
  spec.args = {"/nonexistent/prog"};
  r = runOnce(io, spec);
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "fork/exec /nonexistent/prog: No such file or directory");
}

TEST(ScriptCheckTest, OutputKeepsTheTail) {
  boost::asio::io_context io;
  CheckSpec spec = shellSpec("printf 0123456789abcdefghij");
  spec.output_max_size = 10;
  CheckResult r = runOnce(io, spec);
  EXPECT_EQ(r.status, kPassing);
  EXPECT_EQ(r.output, "Captured 10 of 20 bytes\n...\nabcdefghij");
  // Larger than one pipe read.
  spec.shell_command = "head -c 100000 /dev/zero | tr '\\0' x; echo END";
  spec.output_max_size = 4;
  r = runOnce(io, spec);
  EXPECT_EQ(r.output, "Captured 4 of 100004 bytes\n...\nEND\n");
}

TEST(ScriptCheckTest, TimeoutKillsProcessGroupQuickly) {
  boost::asio::io_context io;
  // The background sleep shares the process group and holds the pipe open.
  CheckSpec spec = shellSpec("sleep 5 & echo $!; sleep 5");
  spec.timeout = milliseconds(200);
  auto t0 = std::chrono::steady_clock::now();
  CheckResult r = runOnce(io, spec);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, kCritical);
  ASSERT_EQ(r.output.rfind("Timed out (200ms) running check\n\n", 0), 0u) << r.output;
  EXPECT_LT(elapsed, milliseconds(800));
  pid_t grandchild = std::stoi(r.output.substr(r.output.find("\n\n") + 2));
  EXPECT_TRUE(testing::runUntil(
      io, [&] { return processDead(grandchild); }, milliseconds(1000)));
  if (!processDead(grandchild)) ::kill(grandchild, SIGKILL);
}

TEST(ScriptCheckTest, TimedOutChildIsReaped) {
  boost::asio::io_context io;
  CheckSpec spec = shellSpec("echo $$; exec sleep 5");
  spec.timeout = milliseconds(100);
  CheckResult r = runOnce(io, spec);
  ASSERT_EQ(r.status, kCritical);
  pid_t child = std::stoi(r.output.substr(r.output.find("\n\n") + 2));
  // Our own child: once reaped, even the zombie is gone.
  EXPECT_TRUE(testing::runUntil(
      io, [&] { return ::kill(child, 0) != 0 && errno == ESRCH; }, milliseconds(1000)));
}

}  // namespace
}  // namespace trellis::agent::checks
