#include "proxy/data/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

Connection::Connection(Worker& worker, std::shared_ptr<const CompiledListener> listener,
                       std::shared_ptr<MuxSession> session, uint32_t id)
    : worker_(worker),
      listener_(std::move(listener)),
      down_(worker.context(), this),
      up_(worker.context(), this),
      timer_(worker.context()),
      mux_(std::move(session)),
      stream_id_(id),
      mux_server_(true) {
  peer_ = mux_->peerIdentity();
}

Connection::~Connection() {
  for (Socket* s : {&down_, &up_}) {
    if (s->fd >= 0) ::close(s->fd);
  }
}

void Connection::start() {
  if (mux_server_) {
    listener_->stats->mux_streams_total.fetch_add(1, std::memory_order_relaxed);
    listener_->stats->mux_streams_active.fetch_add(1, std::memory_order_relaxed);
    state_ = State::kConnecting;
    cluster_ = worker_.cluster(listener_->config->cluster);
    if (!cluster_) {
      TLOG_WARN("proxy: {}: unknown cluster '{}'", listenerName(), listener_->config->cluster);
      return close();
    }
    return connectUpstream();
  }
  listener_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
  listener_->stats->connections_active.fetch_add(1, std::memory_order_relaxed);
  if (!adopt(down_)) return close();
  if (listener_->tls) {
    down_.transport = makeTlsServerTransport(
        down_.fd, *listener_->tls, &listener_->config->server_names, worker_.options().mux);
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
  if (mux_) {
    if (mux_open_ || mux_server_) {
      if (!mux_done_ && !mux_reset_received_) mux_->sendControl(MuxType::kReset, stream_id_);
      mux_->removeStream(stream_id_);
    } else {
      mux_->detach(this);
    }
    mux_.reset();
  }
  boost::system::error_code ec;
  timer_.cancel();
  down_.sock.close(ec);
  up_.sock.close(ec);  // an upstream connect still in flight
  // The transports hold the fds; closing an fd also takes it out of the poller's epoll set.
  for (Socket* s : {&down_, &up_}) {
    if (s->fd >= 0) ::close(s->fd);
    s->fd = -1;
  }
  if (mux_server_) {
    listener_->stats->mux_streams_active.fetch_sub(1, std::memory_order_relaxed);
  } else if (!handed_off_) {
    listener_->stats->connections_active.fetch_sub(1, std::memory_order_relaxed);
  }
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
  if (listener_->tls && down_.transport->muxNegotiated()) {
    // A Trellis sidecar asked for trellis-mux/1: this connection becomes a session whose streams
    // are checked by what was just checked. The session now owns the fd and the active count.
    handed_off_ = true;
    const int fd = down_.fd;
    down_.fd = -1;
    worker_.adoptMuxServer(listener_, fd, std::move(down_.transport), peer_);
    return close();
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
    if (!mux_server_) {
      if (auto session = worker_.muxClientFor(cluster_, i)) {
        mux_ = std::move(session);
        mux_->attach(this);  // onMuxOpen or onMuxFailed, now or after the session's handshake
        return;
      }
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

void Connection::onMuxOpen() {
  if (closed_) return;
  const Endpoint& ep = cluster_->config->endpoints[tried_.back()];
  endpoint_key_ = endpointKey(ep);
  ++worker_.lbState(cluster_->config->name).active[endpoint_key_];
  cluster_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
  cluster_->stats->connections_active.fetch_add(1, std::memory_order_relaxed);
  stream_id_ = mux_->open(this);
  mux_open_ = true;
  startRelay();
}

void Connection::onMuxFailed(MuxSession::Failure why) {
  if (closed_) return;
  mux_.reset();
  switch (why) {
    case MuxSession::Failure::kConnect:
      cluster_->stats->connect_failures.fetch_add(1, std::memory_order_relaxed);
      return connectUpstream();  // the next endpoint, as for a direct connection
    case MuxSession::Failure::kDeclined:
      tried_.pop_back();  // the same endpoint again, directly this time
      return connectUpstream();
    case MuxSession::Failure::kTls:
    case MuxSession::Failure::kClosed:
      return close();
  }
}

void Connection::onMuxDeclined(int fd, std::unique_ptr<Transport> transport) {
  mux_.reset();
  if (closed_) {
    ::close(fd);
    return;
  }
  const Endpoint& ep = cluster_->config->endpoints[tried_.back()];
  endpoint_key_ = endpointKey(ep);
  ++worker_.lbState(cluster_->config->name).active[endpoint_key_];
  cluster_->stats->connections_total.fetch_add(1, std::memory_order_relaxed);
  cluster_->stats->connections_active.fetch_add(1, std::memory_order_relaxed);
  up_.fd = fd;
  up_.transport = std::move(transport);
  // Tickets still on their way (TLS 1.3 sends them after the handshake) go to this connection's
  // sink from now on: the session that made the handshake is about to be freed.
  session_sink_.cache = &worker_.sessions();
  session_sink_.key = cluster_->config->name + "/" + endpoint_key_;
  attachSessionSink(up_.transport->ssl(), &session_sink_);
  if (!worker_.rewatch(fd, &up_)) return close();
  startRelay();  // identity was checked by the session's handshake
}

void Connection::startRelay() {
  state_ = State::kRelaying;
  if (mux_) {
    local_ = mux_server_ ? &up_ : &down_;
    last_activity_ = Clock::now();
    armTimer(listener_->config->idle_timeout);
    pump();
    return;
  }
  to_upstream_.emplace(worker_.options().buffer_bytes);
  to_downstream_.emplace(worker_.options().buffer_bytes);
  last_activity_ = Clock::now();
  armTimer(listener_->config->idle_timeout);
  pump();
}

// Returns false when the connection closed.
bool Connection::relay() {
  if (mux_) return muxRelay();
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
  // TLS records the socket did not take yet go first (transport.h: write coalescing).
  bool dst_blocked = false;
  if (dst.transport->pendingOutput() && dst.transport->flushOutput().status != IoStatus::kOk) {
    want(dst, IoStatus::kWantWrite);
    dst_blocked = true;
  }
  for (;;) {
    while (!dst_blocked && !buf.empty()) {
      const IoResult w = dst.transport->write(buf.data(), buf.size());
      if (w.status == IoStatus::kOk) {
        // A short plain send means the socket's buffer is full (the next send would be EAGAIN).
        // TLS writes return after each record (partial-write mode), so they prove nothing.
        const bool partial = w.bytes < buf.size() && dst.transport->ssl() == nullptr;
        buf.consume(w.bytes);
        (to_upstream ? cs.bytes_sent : ls.bytes_sent).fetch_add(w.bytes, std::memory_order_relaxed);
        progressed = true;
        if (partial || dst.transport->pendingOutput()) {
          want(dst, IoStatus::kWantWrite);
          dst_blocked = true;
          break;
        }
        continue;
      }
      if (w.status == IoStatus::kError || w.status == IoStatus::kEof) {
        close();
        return false;
      }
      want(dst, w.status);
      dst_blocked = true;
      break;
    }
    if (!dst_blocked && buf.empty() && src.eof && !dst.shut) {
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

// The far side is a mux stream: stream bytes go straight from the session's input to the local
// socket (mux_pending_ only holds what the socket would not take), and local bytes are read
// straight into the session's output behind a frame header, within the stream's credit.
bool Connection::muxRelay() {
  Socket& l = *local_;
  auto& ls = *listener_->stats;
  auto& cs = *cluster_->stats;
  Counter& from_local = mux_server_ ? cs.bytes_received : ls.bytes_received;
  Counter& to_stream = mux_server_ ? ls.bytes_sent : cs.bytes_sent;
  if (!muxDeliver()) return false;
  bool progressed = false;
  while (!mux_fin_sent_) {
    if (l.eof) {
      mux_->sendControl(MuxType::kFin, stream_id_);
      mux_fin_sent_ = true;
      progressed = true;
      break;
    }
    if (send_credit_ == 0) break;  // onMuxWindow pumps again
    if (!mux_->canSend()) {
      mux_->waitWritable(stream_id_);  // onMuxWritable pumps again
      break;
    }
    if (l.drained) {
      want(l, IoStatus::kWantRead);
      break;
    }
    const size_t n = std::min<size_t>(send_credit_, kMuxMaxPayload);
    char* p = mux_->prepareData(n);
    const IoResult r = l.transport->read(p, n);
    if (r.status == IoStatus::kOk) {
      mux_->commitData(stream_id_, r.bytes);  // may write the session out, and fail it
      if (closed_) return false;
      send_credit_ -= static_cast<uint32_t>(r.bytes);
      from_local.fetch_add(r.bytes, std::memory_order_relaxed);
      to_stream.fetch_add(r.bytes, std::memory_order_relaxed);
      l.drained = !l.hup && l.transport->drained();
      progressed = true;
      continue;
    }
    if (r.status == IoStatus::kEof) {
      l.eof = true;
      continue;
    }
    if (r.status == IoStatus::kWantRead || r.status == IoStatus::kWantWrite) {
      want(l, r.status);
      break;
    }
    close();
    return false;
  }
  if (progressed) last_activity_ = Clock::now();
  const bool pending = mux_pending_ && !mux_pending_->empty();
  if (mux_fin_sent_ && mux_fin_received_ && l.shut && !pending) {
    mux_done_ = true;
    close();
    return false;
  }
  return true;
}

bool Connection::muxDeliver() {
  Socket& l = *local_;
  Counter& to_local = mux_server_ ? cluster_->stats->bytes_sent : listener_->stats->bytes_sent;
  while (mux_pending_ && !mux_pending_->empty()) {
    const IoResult w = l.transport->write(mux_pending_->data(), mux_pending_->size());
    if (w.status == IoStatus::kOk) {
      const bool partial = w.bytes < mux_pending_->size();
      mux_pending_->consume(w.bytes);
      to_local.fetch_add(w.bytes, std::memory_order_relaxed);
      muxAck(w.bytes);
      last_activity_ = Clock::now();
      if (partial) {
        want(l, IoStatus::kWantWrite);
        return true;
      }
      continue;
    }
    if (w.status == IoStatus::kWantWrite || w.status == IoStatus::kWantRead) {
      want(l, w.status);
      return true;
    }
    close();
    return false;
  }
  if (mux_fin_received_ && !l.shut) {
    l.transport->shutdownWrite();  // an error means the peer is gone; reads will tell
    l.shut = true;
  }
  return true;
}

void Connection::muxAck(size_t delivered) {
  recv_unacked_ += delivered;
  if (recv_unacked_ >= kMuxInitialWindow / 4) {
    mux_->sendControl(MuxType::kWindow, stream_id_, static_cast<uint32_t>(recv_unacked_));
    recv_unacked_ = 0;
  }
}

void Connection::onMuxData(const char* data, size_t len) {
  if (closed_) return;
  if (mux_fin_received_) {  // DATA after FIN: the peer is confused; end the stream
    close();
    return;
  }
  (mux_server_ ? listener_->stats->bytes_received : cluster_->stats->bytes_received)
      .fetch_add(len, std::memory_order_relaxed);
  last_activity_ = Clock::now();
  size_t off = 0;
  const bool direct =
      state_ == State::kRelaying && !local_->shut && (!mux_pending_ || mux_pending_->empty());
  if (direct) {
    Counter& to_local = mux_server_ ? cluster_->stats->bytes_sent : listener_->stats->bytes_sent;
    while (off < len) {
      const IoResult w = local_->transport->write(data + off, len - off);
      if (w.status == IoStatus::kOk) {
        off += w.bytes;
        to_local.fetch_add(w.bytes, std::memory_order_relaxed);
        muxAck(w.bytes);
        if (off < len) {  // a short send: the socket is full
          want(*local_, IoStatus::kWantWrite);
          break;
        }
        continue;
      }
      if (w.status == IoStatus::kWantWrite || w.status == IoStatus::kWantRead) {
        want(*local_, w.status);
        break;
      }
      close();
      return;
    }
  }
  if (off == len) return;
  if (!mux_pending_) mux_pending_.emplace(kMuxInitialWindow);
  if (len - off > mux_pending_->capacity() - mux_pending_->size()) {
    TLOG_WARN("proxy: mux stream {} from '{}': peer exceeded the stream window", stream_id_,
              mux_server_ ? peer_ : listenerName());
    close();
    return;
  }
  while (off < len) {
    const size_t n = std::min(len - off, mux_pending_->spaceSize());
    std::memcpy(mux_pending_->space(), data + off, n);
    mux_pending_->commit(n);
    off += n;
  }
}

void Connection::onMuxFin() {
  if (closed_) return;
  mux_fin_received_ = true;
  if (state_ == State::kRelaying) pump();
}

void Connection::onMuxReset() {
  mux_reset_received_ = true;
  close();
}

void Connection::onMuxWindow(uint32_t increment) {
  if (closed_) return;
  send_credit_ =
      static_cast<uint32_t>(std::min<uint64_t>(uint64_t{send_credit_} + increment, 0x7FFFFFFFu));
  if (state_ == State::kRelaying) pump();
}

void Connection::onMuxWritable() {
  if (!closed_ && state_ == State::kRelaying) pump();
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
