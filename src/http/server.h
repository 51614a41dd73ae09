#pragma once
// The HTTP/1.1 server behind the API: accepts connections on the core loop and hands each request
// to one Handler coroutine. Handlers may park (blocking queries) for minutes; a parked request
// costs one coroutine frame and a socket, not a thread. Keep-alive is honoured.
//
// Threading: everything runs on the io_context given to the constructor (the core loop), so
// handlers may read the state store without locks.

#include <utility>  // Boost 1.74's awaitable.hpp needs std::exchange
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/types.h"

namespace trellis::http {

using Handler = std::function<boost::asio::awaitable<Response>(Exchange&)>;

struct ServerOptions {
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies get 413 before the handler runs
  size_t max_header_bytes = 64 * 1024;
};

// Parses one complete HTTP/1.1 request from `raw` with the same parser and limits the server
// uses (for the fuzz target and tests). Errors name what was wrong.
Result<Request> parseRequest(std::string_view raw, const ServerOptions& options);

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~Server();

  // Binds and starts accepting. Port 0 picks a free port; see port().
  Status listen(const std::string& address, uint16_t port);
  uint16_t port() const;
  // Stops accepting and closes idle connections; requests in flight finish on their own.
  void stop();
  size_t activeConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::http
