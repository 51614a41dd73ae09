#pragma once
// The proxy's admin listener (127.0.0.1:19000 by default): a deliberately tiny HTTP/1.1 responder,
// GET only, one request per connection, for /ready, /stats, /stats/prometheus and /config_dump.
// What each path returns is decided by the composition root through AdminHandlers, so xDS
// counters (from src/proxy/xds) and data-plane counters can share one page.
//
// Runs its own io_context on one thread (started by start(), joined by stop()).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"
#include "proxy/config.h"

namespace trellis::proxy::data {

class DataPlane;

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// path (without query) -> handler; called on the admin thread.
using AdminHandlers = std::map<std::string, std::function<AdminResponse()>>;

// The data plane's own pages: /ready ("LIVE" or 503), /stats and /stats/prometheus (Prometheus
// text, with `extra_stats()` appended when set), /config_dump (applied config, no private keys).
AdminHandlers dataPlaneAdminHandlers(const DataPlane& dp,
                                     std::function<std::string()> extra_stats = nullptr);

// Parses the request head; exposed for the fuzz target. Returns the method and the path (query
// stripped), or an error for anything that is not a well-formed HTTP/1.x request line.
struct AdminRequest {
  std::string method;
  std::string path;
};
Result<AdminRequest> parseAdminRequest(std::string_view head);
// Full response bytes for a request head (404 for unknown paths, 405 for non-GET, 400 for junk).
std::string respond(const AdminHandlers& handlers, std::string_view head);

class AdminServer {
 public:
  AdminServer();
  ~AdminServer();  // stop()
  // Binds address:port (port 0 picks one) and starts serving.
  Status start(const std::string& address, uint16_t port, AdminHandlers handlers);
  void stop();
  uint16_t port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  uint16_t port_ = 0;
};

// JSON of a ProxyConfig for /config_dump: everything except private keys (shown as "[redacted]").
std::string configDumpJson(const ProxyConfig& config);

}  // namespace trellis::proxy::data
