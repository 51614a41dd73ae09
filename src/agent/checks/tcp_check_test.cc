#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "agent/checks/runner.h"
#include "agent/checks/test_util.h"

namespace trellis::agent::checks {
namespace {

using boost::asio::ip::tcp;
using testing::runOnce;

CheckSpec tcpSpec(const std::string& addr) {
  CheckSpec spec;
  spec.check_id = "tcp";
  spec.kind = "tcp";
  spec.tcp = addr;
  spec.timeout = std::chrono::seconds(2);
  return spec;
}

TEST(TcpCheckTest, ListeningPortPasses) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::string addr = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  CheckResult r = runOnce(io, tcpSpec(addr));
  EXPECT_EQ(r.status, kPassing);
  EXPECT_EQ(r.output, "TCP connect " + addr + ": Success");
}

TEST(TcpCheckTest, HostNameIsResolved) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::string addr = "localhost:" + std::to_string(acceptor.local_endpoint().port());
  CheckResult r = runOnce(io, tcpSpec(addr));
  // localhost may resolve to ::1 first, which refuses; the next endpoint must be tried.
  EXPECT_EQ(r.status, kPassing) << r.output;
}

TEST(TcpCheckTest, ClosedPortIsCritical) {
  boost::asio::io_context io;
  uint16_t port;
  {
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  std::string addr = "127.0.0.1:" + std::to_string(port);
  CheckResult r = runOnce(io, tcpSpec(addr));
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "dial tcp " + addr + ": connect: connection refused");
}

TEST(TcpCheckTest, MalformedAddressIsCritical) {
  boost::asio::io_context io;
  CheckResult r = runOnce(io, tcpSpec("nope"));
  EXPECT_EQ(r.status, kCritical);
  EXPECT_EQ(r.output, "dial tcp: address nope: missing port in address");
}

}  // namespace
}  // namespace trellis::agent::checks
