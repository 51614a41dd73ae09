#include "proxy/data/data_plane.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <boost/asio/ip/address.hpp>

#include "common/log.h"
#include "event/thread.h"
#include "proxy/data/worker.h"

namespace trellis::proxy::data {
namespace {

constexpr int kListenBacklog = 1024;

// Binds one SO_REUSEPORT listening socket; the kernel spreads accepted connections over the
// sockets of the group, one per worker.
Result<ListenSocket> bindListener(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(address, ec);
  if (ec) return invalidArgument("bad listener address '" + address + "'");
  ListenSocket out;
  out.v6 = addr.is_v6();
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (out.v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    const auto bytes = addr.to_v6().to_bytes();
    std::memcpy(&sa->sin6_addr, bytes.data(), bytes.size());
    len = sizeof(sockaddr_in6);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    const auto bytes = addr.to_v4().to_bytes();
    std::memcpy(&sa->sin_addr, bytes.data(), bytes.size());
    len = sizeof(sockaddr_in);
  }
  const int fd =
      ::socket(out.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return internalError(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, kListenBacklog) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return invalidArgument("cannot listen on " + address + ":" + std::to_string(port) + ": " + why);
  }
  out.fd = fd;
  return out;
}

uint16_t boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace

DataPlane::DataPlane(DataPlaneOptions options) : options_(options) {
  std::signal(SIGPIPE, SIG_IGN);
  size_t n = options_.workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  WorkerOptions wo;
  wo.buffer_bytes = options_.buffer_bytes;
  wo.handshake_timeout = options_.handshake_timeout;
  wo.enforce_on_existing = options_.enforce_on_existing;
  wo.mux = options_.mux;
  wo.mux_sessions_per_endpoint = options_.mux_sessions_per_endpoint;
  for (size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(i, wo));
  auto all = std::make_shared<std::vector<Worker*>>();
  for (auto& w : workers_) all->push_back(w.get());
  for (auto& w : workers_) w->setSiblings(all);
  for (size_t i = 0; i < n; ++i) {
    Worker* w = workers_[i].get();
    threads_.push_back(event::startThread("proxy-wrk-" + std::to_string(i), [w] { w->run(); }));
  }
}

DataPlane::~DataPlane() { stop(std::chrono::milliseconds(0)); }

Status DataPlane::apply(ProxyConfigPtr config) {
  if (!config) return invalidArgument("proxy: null config");
  std::lock_guard lock(mu_);
  if (stopped_) return Status(Code::kUnavailable, "proxy: data plane stopped");
  CompileResult compiled = compileConfig(config, compiled_.get(), tls_cache_, stats_);
  std::vector<std::string> errors = std::move(compiled.errors);
  auto result = std::make_shared<CompiledConfig>(*compiled.config);

  // Bind what is new or moved; one socket per worker, all on the same port.
  std::vector<WorkerUpdate> updates(workers_.size());
  std::map<std::string, Bound> bound;
  for (auto it = result->listeners.begin(); it != result->listeners.end();) {
    const Listener& l = *it->second->config;
    if (auto b = bound_.find(l.name); b != bound_.end() && b->second.address == l.address &&
                                      b->second.configured_port == l.port) {
      bound[l.name] = b->second;
      ++it;
      continue;
    }
    std::vector<ListenSocket> sockets;
    uint16_t port = l.port;
    Status bind_status;
    for (size_t i = 0; i < workers_.size() && bind_status.isOk(); ++i) {
      auto s = bindListener(l.address, port);
      if (!s) {
        bind_status = s.status();
        break;
      }
      if (port == 0) port = boundPort(s->fd);
      sockets.push_back(*s);
    }
    if (!bind_status.isOk()) {
      for (auto& s : sockets) ::close(s.fd);
      errors.push_back("listener " + l.name + ": " + bind_status.message());
      it = result->listeners.erase(it);
      continue;
    }
    for (size_t i = 0; i < workers_.size(); ++i) updates[i].new_sockets[l.name] = sockets[i];
    bound[l.name] = Bound{l.address, l.port, port};
    ++it;
  }
  bound_ = std::move(bound);
  current_ = config;
  stats_.setGeneration(config->generation);
  CompiledConfigPtr frozen = std::move(result);
  compiled_ = frozen;
  for (size_t i = 0; i < workers_.size(); ++i) {
    updates[i].config = frozen;
    workers_[i]->postUpdate(std::move(updates[i]));
  }
  if (errors.empty()) return Status::ok();
  std::string message = "proxy: dropped";
  for (const auto& e : errors) message += "; " + e;
  TLOG_WARN("{}", message);
  return invalidArgument(message);
}

void DataPlane::stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    bound_.clear();
    compiled_.reset();
  }
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (auto& w : workers_) w->postDrain(until);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool DataPlane::ready() const {
  std::lock_guard lock(mu_);
  return !stopped_ && !bound_.empty();
}

ProxyConfigPtr DataPlane::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

uint16_t DataPlane::listenerPort(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = bound_.find(name);
  return it == bound_.end() ? 0 : it->second.port;
}

std::vector<size_t> DataPlane::muxSessionsPerWorker() const {
  std::vector<size_t> out;
  for (const auto& w : workers_) out.push_back(w->muxServerLoad());
  return out;
}

size_t DataPlane::activeConnections() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->connectionCount();
  return n;
}

}  // namespace trellis::proxy::data
