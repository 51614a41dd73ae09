#include "agent/checks/runner.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/checks/test_util.h"

namespace trellis::agent::checks {
namespace {

using boost::asio::ip::tcp;
using std::chrono::milliseconds;
using testing::Collector;
using testing::runFor;
using testing::runUntil;

RunnerOptions fastOptions() {
  RunnerOptions o;
  o.max_stagger = milliseconds(5);
  o.seed = 42;
  return o;
}

CheckSpec tcpSpec(tcp::acceptor& acceptor, milliseconds interval) {
  CheckSpec spec;
  spec.kind = "tcp";
  spec.tcp = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  spec.interval = interval;
  return spec;
}

TEST(RunnerTest, UnknownKindHasNoRunner) {
  boost::asio::io_context io;
  CheckSpec spec;
  spec.kind = "ttl";
  EXPECT_EQ(makeRunner(io, spec, [](const CheckResult&) {}), nullptr);
}

TEST(RunnerTest, RunsEveryInterval) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Collector c;
  auto runner = makeRunner(io, tcpSpec(acceptor, milliseconds(40)), c.fn(), fastOptions());
  runner->start();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runUntil(io, [&] { return c.results.size() >= 4; }));
  // Four runs need three intervals after the (tiny) stagger.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(115));
  for (const auto& r : c.results) EXPECT_EQ(r.status, kPassing);
}

TEST(RunnerTest, FirstRunIsStaggeredWithinTheCap) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Collector c;
  RunnerOptions o;
  o.max_stagger = milliseconds(100);
  auto runner = makeRunner(io, tcpSpec(acceptor, std::chrono::seconds(30)), c.fn(), o);
  runner->start();
  EXPECT_TRUE(runUntil(
      io, [&] { return !c.results.empty(); }, milliseconds(600)));
}

TEST(RunnerTest, StopPreventsFurtherCallbacks) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Collector c;
  auto runner = makeRunner(io, tcpSpec(acceptor, milliseconds(20)), c.fn(), fastOptions());
  runner->start();
  ASSERT_TRUE(runUntil(io, [&] { return c.results.size() >= 2; }));
  runner->stop();
  size_t seen = c.results.size();
  runFor(io, milliseconds(150));
  EXPECT_EQ(c.results.size(), seen);
  // And it can be started again.
  runner->start();
  EXPECT_TRUE(runUntil(io, [&] { return c.results.size() > seen; }));
}

TEST(RunnerTest, StopCancelsRunInFlightAndKillsScript) {
  boost::asio::io_context io;
  std::string pidfile = ::testing::TempDir() + "/checks_stop_pid";
  std::filesystem::remove(pidfile);
  CheckSpec spec;
  spec.kind = "script";
  spec.shell_command = "echo $$ > " + pidfile + "; exec sleep 5";
  spec.timeout = std::chrono::seconds(10);
  Collector c;
  auto runner = makeRunner(io, spec, c.fn(), fastOptions());
  runner->start();
  std::error_code ec;
  ASSERT_TRUE(runUntil(io, [&] {
    auto size = std::filesystem::file_size(pidfile, ec);
    return !ec && size > 1;
  }));
  runner->stop();
  pid_t pid = 0;
  {
    std::ifstream in(pidfile);
    in >> pid;
  }
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(runUntil(
      io, [&] { return ::kill(pid, 0) != 0 && errno == ESRCH; }, milliseconds(1000)));
  EXPECT_TRUE(c.results.empty());
}

TEST(RunnerTest, DestroyingRunnerFromCallbackIsSafe) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  int calls = 0;
  std::unique_ptr<Runner> runner;
  runner = makeRunner(
      io, tcpSpec(acceptor, milliseconds(10)),
      [&](const CheckResult&) {
        ++calls;
        runner.reset();
      },
      fastOptions());
  runner->start();
  ASSERT_TRUE(runUntil(io, [&] { return calls > 0; }));
  runFor(io, milliseconds(60));
  EXPECT_EQ(calls, 1);
}

TEST(RunnerTest, FlapDampingAppliesAcrossRuns) {
  boost::asio::io_context io;
  std::string counter = ::testing::TempDir() + "/checks_flap_counter";
  std::filesystem::remove(counter);
  // Runs 1-2 fail, later runs pass.
  CheckSpec spec;
  spec.kind = "script";
  spec.shell_command = "n=$(cat " + counter + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " +
                       counter + "; echo run $n; [ $n -ge 3 ] || exit 2";
  spec.interval = milliseconds(20);
  spec.success_before_passing = 2;
  Collector c;
  auto runner = makeRunner(io, spec, c.fn(), fastOptions());
  runner->start();
  ASSERT_TRUE(runUntil(io, [&] { return c.results.size() >= 3; }));
  // The first result is always reported; run 2 repeats critical; run 3 is the first success and
  // stays unreported until run 4 completes the streak of two.
  EXPECT_EQ(c.results[0].status, kCritical);
  EXPECT_EQ(c.results[0].output, "run 1\n");
  EXPECT_EQ(c.results[1].status, kCritical);
  EXPECT_EQ(c.results[1].output, "run 2\n");
  EXPECT_EQ(c.results[2].status, kPassing);
  EXPECT_EQ(c.results[2].output, "run 4\n");
}

}  // namespace
}  // namespace trellis::agent::checks
