#include "proxy/data/worker.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <vector>

#include "common/log.h"
#include "proxy/data/connection.h"
#include "proxy/data/mux_session.h"

namespace trellis::proxy::data {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Worker::Acceptor {
  Acceptor(asio::io_context& ioc, std::string n) : acceptor(ioc), retry(ioc), name(std::move(n)) {}
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // backs off after accept errors such as EMFILE
  std::string name;
};

Worker::Worker(size_t index, WorkerOptions options)
    : index_(index),
      options_(options),
      work_(asio::make_work_guard(ioc_)),
      poller_(ioc_),
      drain_timer_(ioc_) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  poller_.assign(epoll_fd_);  // the descriptor now owns the fd
  armPoller();
}

Worker::~Worker() = default;

bool Worker::watch(int fd, PollTarget* target) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = target;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Worker::rewatch(int fd, PollTarget* target) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = target;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

namespace {
// How long an endpoint that declined trellis-mux/1 gets direct connections before it is asked
// again (a sidecar may be upgraded or restarted with mux on).
constexpr auto kNoMuxFor = std::chrono::minutes(5);
}  // namespace

std::shared_ptr<MuxSession> Worker::muxClientFor(
    const std::shared_ptr<const CompiledCluster>& cluster, size_t endpoint) {
  if (!options_.mux || draining_ || !cluster->tls) return nullptr;
  const Cluster& c = *cluster->config;
  // The key carries everything the handshake checked, so a new leaf, roots, SNI or expected
  // identity start a new session; the old one serves its streams and then idles out.
  std::string key = c.name + "/" + endpointKey(c.endpoints[endpoint]) + "/" + c.sni + "/" +
                    std::to_string(reinterpret_cast<uintptr_t>(cluster->tls.get()));
  for (const auto& san : c.expected_sans) key += "/" + san;
  if (auto it = no_mux_until_.find(key); it != no_mux_until_.end()) {
    if (std::chrono::steady_clock::now() < it->second) return nullptr;
    no_mux_until_.erase(it);
  }
  // Up to mux_sessions_per_endpoint sessions, streams on the one with the fewest (idle first).
  // One is the default: more let the server spread this worker's streams over its workers (it
  // balances sessions, not streams), but in bench/proxy two per worker cost about a fifth more
  // CPU per 1 MiB response (less batching per write) and were slower.
  auto& group = mux_clients_[key];
  std::erase_if(group, [&](const std::shared_ptr<MuxSession>& s) {
    if (s->usable()) return false;
    retired_mux_.push_back(s);  // still serving its streams; no new ones
    return true;
  });
  std::shared_ptr<MuxSession> best;
  for (const auto& s : group) {
    if (!best || s->load() < best->load()) best = s;
  }
  if (best && (best->load() == 0 || group.size() >= options_.mux_sessions_per_endpoint)) {
    return best;
  }
  group.push_back(std::make_shared<MuxSession>(*this, cluster, endpoint, key));
  return group.back();
}

void Worker::muxDeclined(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  if (no_mux_until_.size() >= 1024) {  // keys of rotated identities are never looked up again
    std::erase_if(no_mux_until_, [&](const auto& e) { return e.second <= now; });
  }
  no_mux_until_[key] = now + kNoMuxFor;
}

void Worker::adoptMuxServer(std::shared_ptr<const CompiledListener> listener, int fd,
                            std::unique_ptr<Transport> transport, std::string peer) {
  Worker* target = this;
  if (siblings_) {
    for (Worker* w : *siblings_) {
      if (w->muxServerLoad() < target->muxServerLoad()) target = w;
    }
  }
  target->mux_server_load_.fetch_add(1, std::memory_order_relaxed);
  if (target == this) return startMuxServer(std::move(listener), fd, std::move(transport), peer);
  // Out of this worker's epoll set, into the target's there (an fd added edge-triggered reports
  // the readiness it already has, and the session reads at once anyway).
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  struct Handoff {
    int fd = -1;
    std::unique_ptr<Transport> transport;
    ~Handoff() {
      transport.reset();
      if (fd >= 0) ::close(fd);  // the target stopped before it could take it
    }
  };
  auto h = std::make_shared<Handoff>();
  h->fd = fd;
  h->transport = std::move(transport);
  asio::post(target->ioc_, [target, h, l = std::move(listener), p = std::move(peer)]() mutable {
    const int fd = h->fd;
    h->fd = -1;
    if (!target->watch(fd, nullptr)) {
      target->mux_server_load_.fetch_sub(1, std::memory_order_relaxed);
      ::close(fd);
      return;
    }
    target->startMuxServer(std::move(l), fd, std::move(h->transport), std::move(p));
  });
}

void Worker::startMuxServer(std::shared_ptr<const CompiledListener> listener, int fd,
                            std::unique_ptr<Transport> transport, std::string peer) {
  auto s = std::make_shared<MuxSession>(*this, std::move(listener), fd, std::move(transport),
                                        std::move(peer));
  mux_servers_.emplace(s.get(), s);
  s->start();  // points the fd's poller entry at the session
  if (draining_) s->goAway();
}

std::shared_ptr<Connection> Worker::newMuxStream(
    const std::shared_ptr<const CompiledListener>& listener, std::shared_ptr<MuxSession> session,
    uint32_t id) {
  auto c = std::make_shared<Connection>(*this, listener, std::move(session), id);
  connections_.emplace(c.get(), c);
  connection_count_.fetch_add(1);
  return c;
}

void Worker::forgetMux(const std::shared_ptr<MuxSession>& session) {
  if (session->role() == MuxSession::Role::kServer) {
    if (mux_servers_.erase(session.get()) > 0) {
      mux_server_load_.fetch_sub(1, std::memory_order_relaxed);
    }
  } else if (auto it = mux_clients_.find(session->key()); it != mux_clients_.end()) {
    std::erase(it->second, session);
    if (it->second.empty()) mux_clients_.erase(it);
  }
  retired_mux_.push_back(session);
  if (!in_batch_ && !retire_posted_) {
    retire_posted_ = true;
    asio::post(ioc_, [this] {
      retire_posted_ = false;
      releaseRetired();
    });
  }
}

void Worker::markMuxDirty(std::shared_ptr<MuxSession> session) {
  mux_dirty_.push_back(std::move(session));
  if (in_batch_ || flush_posted_) return;
  flush_posted_ = true;
  asio::post(ioc_, [this] {
    flush_posted_ = false;
    flushMux();
  });
}

// Writes every session that queued frames in this batch: one SSL_write (and usually one send)
// for all the streams that had something to say.
void Worker::flushMux() {
  for (int round = 0; round < 8 && !mux_dirty_.empty(); ++round) {
    auto dirty = std::move(mux_dirty_);
    mux_dirty_.clear();
    for (auto& s : dirty) s->flush();
  }
  if (!mux_dirty_.empty() && !flush_posted_) {  // streams woken by the flushes wrote again
    flush_posted_ = true;
    asio::post(ioc_, [this] {
      flush_posted_ = false;
      flushMux();
    });
  }
}

void Worker::releaseRetired() {
  retired_.clear();
  retired_mux_.clear();
}

void Worker::armPoller() {
  poller_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;  // closed: the worker is stopping
                       onPollerReady();
                     });
}

void Worker::onPollerReady() {
  constexpr int kBatch = 128;
  epoll_event events[kBatch];
  in_batch_ = true;
  for (int round = 0; round < 4; ++round) {  // bounded, so timers and posts are not starved
    const int n = ::epoll_wait(epoll_fd_, events, kBatch, 0);
    for (int i = 0; i < n; ++i) {
      static_cast<PollTarget*>(events[i].data.ptr)->onPollEvents(events[i].events);
    }
    if (n < kBatch) break;
  }
  flushMux();
  in_batch_ = false;
  // Connections and sessions closed in this batch may still have had events later in it: freed
  // only now.
  releaseRetired();
  armPoller();
}

void Worker::run() { ioc_.run(); }

void Worker::postUpdate(WorkerUpdate update) {
  asio::post(ioc_, [this, u = std::move(update)]() mutable { onUpdate(u); });
}

void Worker::postDrain(std::chrono::steady_clock::time_point deadline) {
  asio::post(ioc_, [this, deadline] {
    draining_ = true;
    drain_deadline_ = deadline;
    for (auto& [name, a] : acceptors_) {
      boost::system::error_code ec;
      a->acceptor.close(ec);
      a->retry.cancel();
    }
    acceptors_.clear();
    // Peers stop opening streams here; ours end with the connections that use them.
    for (auto& [p, s] : mux_servers_) s->goAway();
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (!connections_.empty() && std::chrono::steady_clock::now() < drain_deadline_) {
    drain_timer_.expires_after(std::chrono::milliseconds(20));
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) checkDrained();
    });
    return;
  }
  std::vector<std::shared_ptr<Connection>> rest;
  for (auto& [p, c] : connections_) rest.push_back(c);
  for (auto& c : rest) c->close();
  std::vector<std::shared_ptr<MuxSession>> sessions;
  for (auto& [k, group] : mux_clients_) sessions.insert(sessions.end(), group.begin(), group.end());
  for (auto& [p, s] : mux_servers_) sessions.push_back(s);
  for (auto& s : sessions) s->close();
  mux_dirty_.clear();
  lb_.clear();
  config_.reset();
  work_.reset();
  boost::system::error_code ec;
  poller_.close(ec);
  // Queued after the handlers the closes just aborted, so those still run and free their
  // connections on this thread.
  asio::post(ioc_, [this] { ioc_.stop(); });
}

std::shared_ptr<const CompiledCluster> Worker::cluster(const std::string& name) const {
  if (!config_) return nullptr;
  auto it = config_->clusters.find(name);
  return it == config_->clusters.end() ? nullptr : it->second;
}

void Worker::remove(Connection* c) {
  auto it = connections_.find(c);
  if (it == connections_.end()) return;
  retired_.push_back(std::move(it->second));
  connections_.erase(it);
  connection_count_.fetch_sub(1);
  if (!retire_posted_) {  // closes outside a poller batch (timers, drain) free after their handler
    retire_posted_ = true;
    asio::post(ioc_, [this] {
      retire_posted_ = false;
      releaseRetired();
    });
  }
}

void Worker::onUpdate(WorkerUpdate& update) {
  if (draining_) {
    for (auto& [name, s] : update.new_sockets) ::close(s.fd);
    return;
  }
  // Stop listeners that are gone or re-bound; their connections drain on their own.
  for (auto it = acceptors_.begin(); it != acceptors_.end();) {
    if (!update.config->listeners.contains(it->first) || update.new_sockets.contains(it->first)) {
      boost::system::error_code ec;
      it->second->acceptor.close(ec);
      it->second->retry.cancel();
      it = acceptors_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [name, s] : update.new_sockets) {
    auto a = std::make_shared<Acceptor>(ioc_, name);
    boost::system::error_code ec;
    a->acceptor.assign(s.v6 ? tcp::v6() : tcp::v4(), s.fd, ec);
    if (ec) {
      TLOG_ERROR("proxy: worker {}: cannot adopt listener {}: {}", index_, name, ec.message());
      ::close(s.fd);
      continue;
    }
    acceptors_[name] = a;
    accept(a);
  }
  CompiledConfigPtr old = std::move(config_);
  config_ = std::move(update.config);
  if (options_.enforce_on_existing && old) enforce(old.get(), *config_);
}

void Worker::accept(const std::shared_ptr<Acceptor>& a) {
  a->acceptor.async_accept(ioc_, [this, a](const boost::system::error_code& ec, tcp::socket s) {
    if (!a->acceptor.is_open() || ec == asio::error::operation_aborted) return;
    if (ec) {
      TLOG_WARN("proxy: worker {}: accept on {} failed: {}", index_, a->name, ec.message());
      a->retry.expires_after(std::chrono::milliseconds(100));
      a->retry.async_wait([this, a](const boost::system::error_code& e) {
        if (!e) accept(a);
      });
      return;
    }
    if (config_) {
      if (auto it = config_->listeners.find(a->name); it != config_->listeners.end()) {
        auto c = std::make_shared<Connection>(*this, it->second, std::move(s));
        connections_.emplace(c.get(), c);
        connection_count_.fetch_add(1);
        c->start();
      }
    }
    accept(a);
  });
}

// Live intention enforcement: a listener whose RBAC changed re-checks its open connections
// against the new policy; Envoy only applies a new policy to new connections.
void Worker::enforce(const CompiledConfig* old_config, const CompiledConfig& config) {
  std::map<std::string, const CompiledRbac*> changed;
  for (const auto& [name, l] : config.listeners) {
    auto it = old_config->listeners.find(name);
    if (it == old_config->listeners.end()) continue;
    const CompiledRbac* before = it->second->rbac.get();
    const CompiledRbac* after = l->rbac.get();
    if (after == nullptr) continue;  // no policy now: nothing to deny
    if (before != nullptr && before->fingerprint() == after->fingerprint()) continue;
    changed[name] = after;
  }
  if (changed.empty()) return;
  std::vector<std::shared_ptr<Connection>> denied;
  for (auto& [p, c] : connections_) {
    if (!c->authorized()) continue;
    auto it = changed.find(c->listenerName());
    if (it == changed.end()) continue;
    const RbacDecision d = it->second->evaluate(c->peerIdentity());
    if (d.allowed) continue;
    TLOG_INFO("proxy: {}: closing open connection from '{}': now denied by policy '{}'",
              c->listenerName(), c->peerIdentity(), d.policy.empty() ? "(default deny)" : d.policy);
    config.listeners.at(it->first)->stats->rbac_closed_existing.fetch_add(1);
    denied.push_back(c);
  }
  for (auto& c : denied) c->close();
  std::vector<std::shared_ptr<MuxSession>> denied_sessions;
  for (auto& [p, s] : mux_servers_) {
    auto it = changed.find(s->listenerName());
    if (it == changed.end()) continue;
    const RbacDecision d = it->second->evaluate(s->peerIdentity());
    if (d.allowed) continue;
    TLOG_INFO("proxy: {}: closing mux session from '{}' ({} streams): now denied by policy '{}'",
              s->listenerName(), s->peerIdentity(), s->streamCount(),
              d.policy.empty() ? "(default deny)" : d.policy);
    config.listeners.at(it->first)->stats->rbac_closed_existing.fetch_add(1);
    denied_sessions.push_back(s);
  }
  for (auto& s : denied_sessions) s->close();
}

}  // namespace trellis::proxy::data
