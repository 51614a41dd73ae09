#include "proxy/data/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "proxy/data/worker.h"

namespace trellis::proxy::data {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

Connection::Connection(Worker& worker, std::shared_ptr<const CompiledListener> listener,
                       tcp::socket socket)
    : worker_(worker),
      listener_(std::move(listener)),
      down_(worker.context(), this),
      up_(worker.context(), this),
      timer_(worker.context()) {
  down_.sock = std::move(socket);
}

Connection::~Connection() {
  for (Socket* s : {&down_, &up_}) {
    if (s->fd >= 0) ::close(s->fd);
  }
}

void Connection::start() {
  listener_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
  listener_->stats->connections_active.fetch_add(1, std::memory_order_relaxed);
  if (!adopt(down_)) return close();
  if (listener_->tls) {
    down_.transport =
        makeTlsServerTransport(down_.fd, *listener_->tls, &listener_->config->server_names);
    state_ = State::kDownHandshake;
    armTimer(worker_.options().handshake_timeout);
    pump();
  } else {
    down_.transport = makePlainTransport(down_.fd);
    onDownstreamReady();
  }
}

bool Connection::adopt(Socket& s) {
  boost::system::error_code ec;
  s.fd = s.sock.release(ec);
  if (ec) {
    s.fd = -1;
    return false;
  }
  int on = 1;
  ::ioctl(s.fd, FIONBIO, &on);
  ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return worker_.watch(s.fd, &s);
}

void Connection::onSocketEvents(Socket& s, uint32_t events) {
  if (closed_) return;
  const bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  const bool writable = (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
  if (readable) s.drained = false;
  // A short read says nothing about a FIN or an error queued behind the data, and no further
  // edge would announce them: from here on every read goes on until it sees EAGAIN or EOF.
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) s.hup = true;
  // Edge-triggered: an edge nobody waits for is dropped, which is safe because every wait is
  // set after an operation found the socket empty (or full), so the next change raises an edge.
  if ((readable && s.want_read) || (writable && s.want_write)) pump();
}

void Connection::close() {
  if (closed_) return;
  auto self = shared_from_this();  // the worker's reference may be the last one
  closed_ = true;
  boost::system::error_code ec;
  timer_.cancel();
  down_.sock.close(ec);
  up_.sock.close(ec);  // an upstream connect still in flight
  // The transports hold the fds; closing an fd also takes it out of the poller's epoll set.
  for (Socket* s : {&down_, &up_}) {
    if (s->fd >= 0) ::close(s->fd);
    s->fd = -1;
  }
  listener_->stats->connections_active.fetch_sub(1, std::memory_order_relaxed);
  if (!endpoint_key_.empty()) {
    auto& active = worker_.lbState(cluster_->config->name).active;
    if (auto it = active.find(endpoint_key_); it != active.end() && --it->second == 0) {
      active.erase(it);
    }
    cluster_->stats->connections_active.fetch_sub(1, std::memory_order_relaxed);
    endpoint_key_.clear();
  }
  worker_.remove(this);
}

void Connection::pump() {
  if (closed_) return;
  down_.want_read = down_.want_write = up_.want_read = up_.want_write = false;
  switch (state_) {
    case State::kDownHandshake: {
      const IoResult r = down_.transport->handshake();
      if (r.status == IoStatus::kOk) return onDownstreamReady();
      if (r.status == IoStatus::kError) {
        const TlsFailure f = down_.transport->failure();
        listener_->stats->tls_failures.inc(f);
        TLOG_DEBUG("proxy: {}: TLS handshake failed: {}", listenerName(), tlsFailureName(f));
        return close();
      }
      want(down_, r.status);
      break;
    }
    case State::kConnecting:
      return;  // the connect completion drives this state
    case State::kUpHandshake: {
      const IoResult r = up_.transport->handshake();
      if (r.status == IoStatus::kOk) return onUpstreamReady();
      if (r.status == IoStatus::kError) {
        const TlsFailure f = up_.transport->failure();
        cluster_->stats->tls_failures.inc(f);
        worker_.sessions().erase(session_sink_.key);
        TLOG_DEBUG("proxy: {}: upstream TLS handshake failed: {}", cluster_->config->name,
                   tlsFailureName(f));
        return close();
      }
      want(up_, r.status);
      break;
    }
    case State::kRelaying:
      if (!relay()) return;
      break;
  }
  // Nothing to arm: both fds sit in the worker's epoll set; onSocketEvents checks the wants.
}

void Connection::onDownstreamReady() {
  if (listener_->tls) {
    peer_ = down_.transport->peerIdentity();
    const auto& tds = listener_->config->trust_domains;
    TlsFailure failure = TlsFailure::kCount;
    if (peer_.empty() && listener_->config->require_client_certificate) {
      failure = TlsFailure::kNoSpiffeId;
    } else if (!tds.empty() &&
               std::find(tds.begin(), tds.end(), spiffeTrustDomain(peer_)) == tds.end()) {
      failure = TlsFailure::kForeignTrustDomain;
    }
    if (failure != TlsFailure::kCount) {
      listener_->stats->tls_failures.inc(failure);
      TLOG_INFO("proxy: {}: rejected peer '{}': {}", listenerName(), peer_,
                tlsFailureName(failure));
      return close();
    }
  }
  if (listener_->rbac) {
    const RbacDecision d = listener_->rbac->evaluate(peer_);
    if (!d.allowed) {
      listener_->stats->rbac_denied.fetch_add(1, std::memory_order_relaxed);
      TLOG_INFO("proxy: {}: RBAC denied '{}' by policy '{}'", listenerName(), peer_,
                d.policy.empty() ? "(default deny)" : d.policy);
      return close();
    }
    listener_->stats->rbac_allowed.fetch_add(1, std::memory_order_relaxed);
  }
  state_ = State::kConnecting;
  cluster_ = worker_.cluster(listener_->config->cluster);
  if (!cluster_) {
    TLOG_WARN("proxy: {}: unknown cluster '{}'", listenerName(), listener_->config->cluster);
    return close();
  }
  connectUpstream();
}

void Connection::connectUpstream() {
  const Cluster& c = *cluster_->config;
  LbState& lb = worker_.lbState(c.name);
  for (;;) {
    const uint32_t max_attempts = std::max<uint32_t>(1, listener_->config->max_connect_attempts);
    const size_t i =
        tried_.size() < max_attempts ? pickEndpoint(c.endpoints, c.lb, lb, tried_) : kNoEndpoint;
    if (i == kNoEndpoint) {
      cluster_->stats->no_healthy_endpoint.fetch_add(1, std::memory_order_relaxed);
      TLOG_DEBUG("proxy: {}: no endpoint left to try for '{}'", listenerName(), c.name);
      return close();
    }
    tried_.push_back(i);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(c.endpoints[i].address, ec);
    if (ec) {
      cluster_->stats->connect_failures.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    up_.sock.close(ec);
    const uint64_t attempt = ++attempt_;
    connect_timed_out_ = false;
    up_.sock.async_connect(tcp::endpoint(address, c.endpoints[i].port),
                           [self = shared_from_this(), attempt](const auto& error) {
                             self->onConnected(error, attempt);
                           });
    armTimer(c.connect_timeout);
    return;
  }
}

void Connection::onConnected(const boost::system::error_code& ec, uint64_t attempt) {
  if (closed_ || attempt != attempt_) return;
  if (ec) {
    cluster_->stats->connect_failures.fetch_add(1, std::memory_order_relaxed);
    if (connect_timed_out_) cluster_->stats->connect_timeouts.fetch_add(1);
    TLOG_DEBUG("proxy: {}: connect to {} failed: {}", cluster_->config->name,
               endpointKey(cluster_->config->endpoints[tried_.back()]),
               connect_timed_out_ ? "timeout" : ec.message());
    return connectUpstream();
  }
  timer_.cancel();
  const Endpoint& ep = cluster_->config->endpoints[tried_.back()];
  endpoint_key_ = endpointKey(ep);
  ++worker_.lbState(cluster_->config->name).active[endpoint_key_];
  cluster_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
  cluster_->stats->connections_active.fetch_add(1, std::memory_order_relaxed);
  if (!adopt(up_)) return close();
  const int fd = up_.fd;
  if (!cluster_->tls) {
    up_.transport = makePlainTransport(fd);
    return startRelay();
  }
  session_sink_.cache = &worker_.sessions();
  session_sink_.key = cluster_->config->name + "/" + endpoint_key_;
  TlsClientOptions options;
  options.sni = cluster_->config->sni;
  options.session = worker_.sessions().find(session_sink_.key);
  options.sink = &session_sink_;
  up_.transport = makeTlsClientTransport(fd, *cluster_->tls, options);
  state_ = State::kUpHandshake;
  armTimer(worker_.options().handshake_timeout);
  pump();
}

void Connection::onUpstreamReady() {
  const auto& expected = cluster_->config->expected_sans;
  if (!expected.empty()) {
    bool match = false;
    for (const auto& san : peerUriSans(up_.transport->ssl())) {
      match = match || std::find(expected.begin(), expected.end(), san) != expected.end();
    }
    if (!match) {
      cluster_->stats->tls_failures.inc(TlsFailure::kIdentityMismatch);
      worker_.sessions().erase(session_sink_.key);
      TLOG_INFO("proxy: {}: upstream {} presented an unexpected identity", cluster_->config->name,
                endpoint_key_);
      return close();
    }
  }
  if (up_.transport->resumed()) cluster_->stats->tls_resumed.fetch_add(1);
  startRelay();
}

void Connection::startRelay() {
  state_ = State::kRelaying;
  to_upstream_.emplace(worker_.options().buffer_bytes);
  to_downstream_.emplace(worker_.options().buffer_bytes);
  last_activity_ = Clock::now();
  armTimer(listener_->config->idle_timeout);
  pump();
}

// Returns false when the connection closed.
bool Connection::relay() {
  bool progress = true;
  bool any = false;
  while (progress && !closed_) {
    progress = move(down_, up_, *to_upstream_, true);
    if (closed_) break;
    progress = move(up_, down_, *to_downstream_, false) || progress;
    any = any || progress;
  }
  if (closed_) return false;
  if (any) last_activity_ = Clock::now();
  const bool upstream_done = down_.eof && up_.shut && to_upstream_->empty();
  const bool downstream_done = up_.eof && down_.shut && to_downstream_->empty();
  if (upstream_done && downstream_done) {
    close();
    return false;
  }
  return true;
}

bool Connection::move(Socket& src, Socket& dst, RelayBuffer& buf, bool to_upstream) {
  bool progressed = false;
  auto& ls = *listener_->stats;
  auto& cs = *cluster_->stats;
  for (;;) {
    while (!buf.empty()) {
      const IoResult w = dst.transport->write(buf.data(), buf.size());
      if (w.status == IoStatus::kOk) {
        // A short plain send means the socket's buffer is full (the next send would be EAGAIN).
        // TLS writes return after each record (partial-write mode), so they prove nothing.
        const bool partial = w.bytes < buf.size() && dst.transport->ssl() == nullptr;
        buf.consume(w.bytes);
        (to_upstream ? cs.bytes_sent : ls.bytes_sent).fetch_add(w.bytes, std::memory_order_relaxed);
        progressed = true;
        if (partial) {
          want(dst, IoStatus::kWantWrite);
          break;
        }
        continue;
      }
      if (w.status == IoStatus::kError || w.status == IoStatus::kEof) {
        close();
        return false;
      }
      want(dst, w.status);
      break;
    }
    if (buf.empty() && src.eof && !dst.shut) {
      const IoResult s = dst.transport->shutdownWrite();
      if (s.status == IoStatus::kWantRead || s.status == IoStatus::kWantWrite) {
        want(dst, s.status);
      } else {
        dst.shut = true;  // an error here means the peer is gone; reads will tell
        progressed = true;
      }
    }
    if (src.eof || buf.full()) return progressed;
    if (src.drained) {  // the last read emptied the socket: wait for readability
      want(src, IoStatus::kWantRead);
      return progressed;
    }
    const IoResult r = src.transport->read(buf.space(), buf.spaceSize());
    switch (r.status) {
      case IoStatus::kOk:
        buf.commit(r.bytes);
        (to_upstream ? ls.bytes_received : cs.bytes_received)
            .fetch_add(r.bytes, std::memory_order_relaxed);
        src.drained = !src.hup && src.transport->drained();
        progressed = true;
        continue;
      case IoStatus::kEof:
        src.eof = true;
        progressed = true;
        continue;
      case IoStatus::kWantRead:
      case IoStatus::kWantWrite:
        want(src, r.status);
        return progressed;
      case IoStatus::kError:
        close();
        return false;
    }
  }
}

void Connection::want(Socket& s, IoStatus status) {
  if (status == IoStatus::kWantRead) s.want_read = true;
  if (status == IoStatus::kWantWrite) s.want_write = true;
}

void Connection::armTimer(std::chrono::steady_clock::duration after) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), attempt = attempt_,
                     state = state_](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->state_ != state || self->attempt_ != attempt) return;
    self->onTimer();
  });
}

void Connection::onTimer() {
  switch (state_) {
    case State::kDownHandshake:
      listener_->stats->tls_failures.inc(TlsFailure::kTimeout);
      return close();
    case State::kUpHandshake:
      cluster_->stats->tls_failures.inc(TlsFailure::kTimeout);
      return close();
    case State::kConnecting: {
      connect_timed_out_ = true;
      boost::system::error_code ec;
      up_.sock.close(ec);  // completes the pending connect with operation_aborted
      return;
    }
    case State::kRelaying: {
      const auto idle = listener_->config->idle_timeout;
      const auto since = Clock::now() - last_activity_;
      if (since >= idle) {
        listener_->stats->idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        return close();
      }
      armTimer(idle - since);
      return;
    }
  }
}

}  // namespace trellis::proxy::data
