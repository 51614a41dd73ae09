// Fuzz target over the whole HTTP API path: raw bytes -> the server's HTTP/1.1 request parser ->
// the real route table and handlers (JSON decoders of register, KV, session, txn, check bodies;
// query parsing; filters) of an in-process dev agent. Check runners are disabled so no input can
// make the agent dial out; blocking queries wait at most a few milliseconds.
#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <memory>
#include <string_view>

#include "agent/agent.h"
#include "api/router.h"
#include "bin/http_routes.h"
#include "consensus/memory_log.h"
#include "http/server.h"
#include "server/fsm.h"
#include "server/session_timers.h"

namespace {

using namespace trellis;  // NOLINT

struct World {
  boost::asio::io_context io{1};
  state::Store store;
  server::Fsm fsm{store};
  consensus::MemoryLog log{[this](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); }};
  server::Writer writer{io, log};
  server::SessionTimers timers{io, writer};
  agent::Agent agent{io, store, writer, agent::AgentOptions{"fuzz-node", "", "dc1", "127.0.0.1"},
                     nullptr};
  std::unique_ptr<api::Context> ctx;
  std::unique_ptr<api::Router> router;

  World() {
    (void)log.open(fsm);
    api::ApiConfig cfg;
    cfg.node_name = "fuzz-node";
    cfg.default_wait = std::chrono::milliseconds(2);
    cfg.max_wait = std::chrono::milliseconds(5);
    ctx = std::make_unique<api::Context>(api::Context{io, store, writer, agent, timers, cfg});
    router = std::make_unique<api::Router>(*ctx, bin::httpRoutes());
    bool started = false;
    boost::asio::co_spawn(io, agent.start(), [&started](std::exception_ptr, Status) { started = true; });
    while (!started) io.run_one();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  http::ServerOptions opts;
  opts.max_body_bytes = 1 << 20;
  auto req = http::parseRequest(std::string_view(reinterpret_cast<const char*>(data), size), opts);
  if (!req) return 0;
  auto ex = std::make_shared<http::Exchange>();
  ex->request = std::move(*req);
  ex->client_gone_ = std::make_shared<bool>(false);
  bool done = false;
  boost::asio::co_spawn(world->io, world->router->handle(*ex),
                        [&done, ex](std::exception_ptr, http::Response) { done = true; });
  while (!done) {
    world->io.run_one();
  }
  // Let completions queued by the request (log applies, syncs) finish.
  world->io.poll();
  world->io.restart();
  return 0;
}
