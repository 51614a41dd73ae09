#pragma once
#include <boost/asio/io_context.hpp>

#include "agent/agent.h"

namespace trellis::bin {
// Wires the agent's check definitions to the HTTP/TCP/script runners of src/agent/checks.
agent::RunnerFactory checkRunnerFactory(boost::asio::io_context& io);
}  // namespace trellis::bin
