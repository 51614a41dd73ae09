#pragma once
// Writer: how handlers and agent duties submit commands to the log and await their outcome as a
// coroutine. One steady_timer per write serves as the wake-up; the log's completion cancels it.
// Runs on the core loop.

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "consensus/log.h"
#include "trellis.pb.h"

namespace trellis::server {

class Writer {
 public:
  Writer(boost::asio::io_context& io, consensus::ReplicatedLog& log) : io_(io), log_(log) {}

  boost::asio::awaitable<Result<consensus::Applied>> submit(const pb::Command& cmd);
  consensus::ReplicatedLog& log() { return log_; }

 private:
  boost::asio::io_context& io_;
  consensus::ReplicatedLog& log_;
};

// Unpacks the FSM's result for commands that return a Status (register, deregister, session
// create): a log failure or an FSM rejection both become the returned Status.
Status appliedStatus(const Result<consensus::Applied>& r);

}  // namespace trellis::server
