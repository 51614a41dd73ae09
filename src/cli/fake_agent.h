#pragma once
// Test-only HTTP server on 127.0.0.1:<ephemeral> that records every request and answers from
// a handler. One thread accepts; each connection gets its own thread (the lock command keeps
// a blocking read and a renewal in flight at once). Raw sockets on purpose: the fake must not
// share parsing code with the client under test.

#include <atomic>
#include <sstream>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace trellis::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // path?query as sent
  std::string path;
  std::string query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct FakeResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class FakeAgent {
 public:
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;
  explicit FakeAgent(Handler handler);
  ~FakeAgent();

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<RecordedRequest> requests() const;

 private:
  void acceptLoop();
  void serve(int fd);

  Handler handler_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::thread> workers_;
};

// A port on 127.0.0.1 with nothing listening (bound, read, closed).
int closedPort();

// What one CLI invocation printed and returned.
struct Outcome {
  int code;
  std::string out;
  std::string err;
};

// Runs the CLI against `agent` (CONSUL_HTTP_ADDR points at it; `env` adds more variables).
Outcome runCli(const std::vector<std::string>& args, const FakeAgent& agent,
               std::map<std::string, std::string> env = {});

// A 200 answer with `body`, and an X-Consul-Index header when `index` > 0.
FakeResponse ok(std::string body, uint64_t index = 0);

}  // namespace trellis::cli::testing
