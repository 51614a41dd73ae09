#include "proxy/data/mux_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "proxy/data/connection.h"

namespace trellis::proxy::data {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void ByteQueue::consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

char* ByteQueue::prepare(size_t n) {
  if (cap_ - end_ >= n) return buf_.get() + end_;
  const size_t used = size();
  if (cap_ - used >= n && begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, used);
  } else {
    size_t cap = std::max<size_t>(cap_ * 2, 32 * 1024);
    while (cap - used < n) cap *= 2;
    auto grown = std::make_unique_for_overwrite<char[]>(cap);
    if (used > 0) std::memcpy(grown.get(), buf_.get() + begin_, used);
    buf_ = std::move(grown);
    cap_ = cap;
  }
  begin_ = 0;
  end_ = used;
  return buf_.get() + end_;
}

void ByteQueue::append(const char* p, size_t n) {
  std::memcpy(prepare(n), p, n);
  commit(n);
}

void ByteQueue::release() {
  if (!empty()) return;
  buf_.reset();
  cap_ = begin_ = end_ = 0;
}

MuxSession::MuxSession(Worker& worker, std::shared_ptr<const CompiledCluster> cluster,
                       size_t endpoint, std::string key)
    : worker_(worker),
      role_(Role::kClient),
      cluster_(std::move(cluster)),
      endpoint_(endpoint),
      key_(std::move(key)),
      sock_(worker.context()),
      timer_(worker.context()) {}

MuxSession::MuxSession(Worker& worker, std::shared_ptr<const CompiledListener> listener, int fd,
                       std::unique_ptr<Transport> transport, std::string peer)
    : worker_(worker),
      role_(Role::kServer),
      listener_(std::move(listener)),
      peer_(std::move(peer)),
      sock_(worker.context()),
      timer_(worker.context()),
      fd_(fd),
      transport_(std::move(transport)) {}

MuxSession::~MuxSession() {
  if (fd_ >= 0) ::close(fd_);
}

const std::string& MuxSession::listenerName() const {
  static const std::string none;
  return listener_ ? listener_->config->name : none;
}

void MuxSession::start() {
  started_ = true;
  counted_ = true;
  if (role_ == Role::kServer) {
    listener_->stats->mux_sessions_total.fetch_add(1, std::memory_order_relaxed);
    listener_->stats->mux_sessions_active.fetch_add(1, std::memory_order_relaxed);
    ready_ = true;
    if (!worker_.rewatch(fd_, this)) return close();
    idle_since_ = std::chrono::steady_clock::now();
    armIdle(idleLimit());
    readFrames();  // the client may have sent frames right behind its Finished
    return;
  }
  cluster_->stats->mux_sessions_total.fetch_add(1, std::memory_order_relaxed);
  cluster_->stats->mux_sessions_active.fetch_add(1, std::memory_order_relaxed);
  const Endpoint& ep = cluster_->config->endpoints[endpoint_];
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(ep.address, ec);
  if (ec) return fail(Failure::kConnect);
  sock_.async_connect(
      tcp::endpoint(address, ep.port),
      [self = shared_from_this()](const boost::system::error_code& e) { self->onConnected(e); });
  timer_.expires_after(cluster_->config->connect_timeout);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
    if (e || self->closed_ || self->fd_ >= 0) return;
    self->cluster_->stats->connect_timeouts.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    self->sock_.close(ignored);  // completes the connect with operation_aborted
  });
}

void MuxSession::onConnected(const boost::system::error_code& ec) {
  if (closed_) return;
  if (ec) {
    TLOG_DEBUG("proxy: {}: mux connect to {} failed: {}", cluster_->config->name,
               endpointKey(cluster_->config->endpoints[endpoint_]), ec.message());
    return fail(Failure::kConnect);
  }
  boost::system::error_code e;
  fd_ = sock_.release(e);
  if (e) {
    fd_ = -1;
    return fail(Failure::kConnect);
  }
  int on = 1;
  ::ioctl(fd_, FIONBIO, &on);
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  if (!worker_.watch(fd_, this)) return fail(Failure::kConnect);
  session_sink_.cache = &worker_.sessions();
  session_sink_.key =
      cluster_->config->name + "/" + endpointKey(cluster_->config->endpoints[endpoint_]);
  TlsClientOptions options;
  options.sni = cluster_->config->sni;
  options.session = worker_.sessions().find(session_sink_.key);
  options.sink = &session_sink_;
  options.offer_mux = true;
  transport_ = makeTlsClientTransport(fd_, *cluster_->tls, options);
  timer_.cancel();
  timer_.expires_after(worker_.options().handshake_timeout);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
    if (e || self->closed_ || self->ready_) return;
    self->cluster_->stats->tls_failures.inc(TlsFailure::kTimeout);
    self->fail(Failure::kTls);
  });
  handshake();
}

void MuxSession::handshake() {
  want_write_ = false;
  const IoResult r = transport_->handshake();
  if (r.status == IoStatus::kWantRead || r.status == IoStatus::kWantWrite) {
    want_write_ = r.status == IoStatus::kWantWrite;
    return;
  }
  if (r.status != IoStatus::kOk) {
    const TlsFailure f = transport_->failure();
    cluster_->stats->tls_failures.inc(f);
    worker_.sessions().erase(session_sink_.key);
    TLOG_DEBUG("proxy: {}: upstream TLS handshake failed: {}", cluster_->config->name,
               tlsFailureName(f));
    return fail(Failure::kTls);
  }
  const auto& expected = cluster_->config->expected_sans;
  if (!expected.empty()) {
    bool match = false;
    for (const auto& san : peerUriSans(transport_->ssl())) {
      match = match || std::find(expected.begin(), expected.end(), san) != expected.end();
    }
    if (!match) {
      cluster_->stats->tls_failures.inc(TlsFailure::kIdentityMismatch);
      worker_.sessions().erase(session_sink_.key);
      TLOG_INFO("proxy: {}: upstream {} presented an unexpected identity", cluster_->config->name,
                endpointKey(cluster_->config->endpoints[endpoint_]));
      return fail(Failure::kTls);
    }
  }
  if (transport_->resumed()) cluster_->stats->tls_resumed.fetch_add(1);
  timer_.cancel();
  if (!transport_->muxNegotiated()) {
    // Not a Trellis sidecar (or one with -mux=false): the first waiter keeps this connection as
    // its own upstream, the rest connect directly, and so will later connections.
    cluster_->stats->mux_fallbacks.fetch_add(1, std::memory_order_relaxed);
    worker_.muxDeclined(key_);
    Connection* first = nullptr;
    if (!waiters_.empty()) {
      first = waiters_.front();
      waiters_.erase(waiters_.begin());
    }
    const int fd = fd_;
    fd_ = -1;
    auto transport = std::move(transport_);
    fail(Failure::kDeclined);
    if (first != nullptr) {
      first->onMuxDeclined(fd, std::move(transport));
    } else {
      ::close(fd);
    }
    return;
  }
  onReady();
}

void MuxSession::onReady() {
  ready_ = true;
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (Connection* c : waiters) {
    if (closed_) {
      c->onMuxFailed(Failure::kClosed);
    } else {
      c->onMuxOpen();
    }
  }
  if (!closed_) readFrames();
  if (!closed_ && streams_.empty()) {
    idle_since_ = std::chrono::steady_clock::now();
    armIdle(idleLimit());
  }
}

void MuxSession::fail(Failure why) {
  auto self = shared_from_this();
  auto waiters = std::move(waiters_);
  waiters_.clear();
  close();
  for (Connection* c : waiters) c->onMuxFailed(why);
}

void MuxSession::attach(Connection* c) {
  if (ready_) return c->onMuxOpen();
  waiters_.push_back(c);
  if (!started_ && !closed_) start();
}

uint32_t MuxSession::open(Connection* c) {
  const uint32_t id = next_stream_++;
  streams_[id] = c;
  sendControl(MuxType::kOpen, id);
  return id;
}

void MuxSession::detach(Connection* c) { std::erase(waiters_, c); }

char* MuxSession::prepareData(size_t n) {
  return out_.prepare(kMuxHeaderBytes + n) + kMuxHeaderBytes;
}

void MuxSession::commitData(uint32_t stream, size_t n) {
  if (n == 0) return;
  char* header = out_.prepare(kMuxHeaderBytes + n);  // the same place prepareData returned
  encodeMuxHeader(header, MuxType::kData, stream, static_cast<uint32_t>(n));
  out_.commit(kMuxHeaderBytes + n);
  if (out_.size() >= kFlushAt) {
    flush();
  } else {
    markDirty();
  }
}

void MuxSession::sendControl(MuxType type, uint32_t stream, uint32_t increment) {
  if (closed_) return;
  char frame[kMuxHeaderBytes + 4];
  const uint32_t length = type == MuxType::kWindow ? 4 : 0;
  encodeMuxHeader(frame, type, stream, length);
  if (length != 0) {
    frame[8] = static_cast<char>(increment >> 24);
    frame[9] = static_cast<char>(increment >> 16);
    frame[10] = static_cast<char>(increment >> 8);
    frame[11] = static_cast<char>(increment);
  }
  out_.append(frame, kMuxHeaderBytes + length);
  markDirty();
}

void MuxSession::waitWritable(uint32_t stream) {
  if (std::find(blocked_.begin(), blocked_.end(), stream) == blocked_.end()) {
    blocked_.push_back(stream);
  }
}

void MuxSession::removeStream(uint32_t stream) {
  streams_.erase(stream);
  if (streams_.empty() && !closed_) {
    if (role_ == Role::kClient && goaway_) {
      close();  // the server asked us to go and the last stream is done
    } else {
      idle_since_ = std::chrono::steady_clock::now();
      if (!idle_armed_) armIdle(idleLimit());
    }
  }
}

void MuxSession::goAway() {
  if (closed_ || goaway_) return;
  goaway_ = true;
  sendControl(MuxType::kGoAway, 0);
}

// A session without streams closes after idleLimit(): the client's 30 s, or the listener's idle
// timeout on the server (1 h by default, so the client, which opens streams, is the one that
// closes an idle session and no OPEN crosses a close). One timer per session, re-armed only when
// it fires, not per stream.
std::chrono::steady_clock::duration MuxSession::idleLimit() const {
  if (role_ == Role::kClient) return kClientIdle;
  return listener_->config->idle_timeout;
}

void MuxSession::armIdle(std::chrono::steady_clock::duration after) {
  idle_armed_ = true;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
    self->idle_armed_ = false;
    if (e || self->closed_ || !self->streams_.empty()) return;
    const auto idle = std::chrono::steady_clock::now() - self->idle_since_;
    if (idle < self->idleLimit()) return self->armIdle(self->idleLimit() - idle);
    if (self->role_ == Role::kServer) {
      self->listener_->stats->idle_timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    self->close();
  });
}

void MuxSession::markDirty() {
  if (dirty_ || closed_) return;
  dirty_ = true;
  worker_.markMuxDirty(shared_from_this());
}

void MuxSession::flush() {
  dirty_ = false;
  if (closed_ || !ready_ || want_write_) return;  // a pending write waits for writability
  if (transport_->pendingOutput() && transport_->flushOutput().status != IoStatus::kOk) {
    want_write_ = true;
    return;
  }
  while (!out_.empty()) {
    const IoResult w = transport_->write(out_.data(), out_.size());
    if (w.status == IoStatus::kOk) {
      out_.consume(w.bytes);
      continue;
    }
    if (w.status == IoStatus::kWantWrite || w.status == IoStatus::kWantRead) {
      want_write_ =
          true;  // SSL_write wanting a read (renegotiation) cannot happen: TLS 1.3/no reneg
      break;
    }
    TLOG_DEBUG("proxy: mux session {}: write failed", key_.empty() ? peer_ : key_);
    return close();
  }
  if (!want_write_ && transport_->pendingOutput()) want_write_ = true;  // the kernel took a part
  if (out_.empty() && out_.capacity() > 256 * 1024) out_.release();
  if (out_.size() < kLowWater) wakeWriters();
}

void MuxSession::wakeWriters() {
  if (blocked_.empty()) return;
  auto blocked = std::move(blocked_);
  blocked_.clear();
  auto self = shared_from_this();
  for (uint32_t id : blocked) {
    if (closed_) return;
    if (auto it = streams_.find(id); it != streams_.end()) it->second->onMuxWritable();
  }
}

void MuxSession::onPollEvents(uint32_t events) {
  if (closed_) return;
  auto self = shared_from_this();
  const bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  const bool writable = (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
  if (readable) drained_ = false;
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) hup_ = true;
  if (!ready_) {
    if (fd_ >= 0 && transport_ && (readable || (writable && want_write_))) handshake();
    return;
  }
  if (writable && want_write_) {
    want_write_ = false;
    flush();
    if (closed_) return;
    if (read_wants_write_) {
      read_wants_write_ = false;
      readFrames();
    }
  }
  if (readable && !closed_) readFrames();
}

void MuxSession::readFrames() {
  auto self = shared_from_this();
  constexpr size_t kReadChunk = 64 * 1024;
  while (!closed_) {
    if (drained_) return;
    char* space = in_.prepare(kReadChunk);
    const IoResult r = transport_->read(space, kReadChunk);
    if (r.status == IoStatus::kWantRead) return;
    if (r.status == IoStatus::kWantWrite) {
      read_wants_write_ = true;
      return;
    }
    if (r.status != IoStatus::kOk) {
      // The peer closed (or reset) the session: every stream on it ends with it.
      TLOG_DEBUG("proxy: mux session {}: closed by peer", key_.empty() ? peer_ : key_);
      return close();
    }
    in_.commit(r.bytes);
    drained_ = !hup_ && transport_->drained();
    size_t used = 0;
    while (!closed_) {
      MuxFrame f;
      size_t consumed = 0;
      std::string error;
      const std::string_view rest(in_.data() + used, in_.size() - used);
      const MuxParse p = parseMuxFrame(rest, f, consumed, error);
      if (p == MuxParse::kNeedMore) break;
      if (p == MuxParse::kError) {
        TLOG_WARN("proxy: mux session {}: {}", key_.empty() ? peer_ : key_, error);
        return close();
      }
      used += consumed;
      if (!dispatch(f)) return;
    }
    if (closed_) return;
    in_.consume(used);
    if (in_.empty() && in_.capacity() > 256 * 1024) in_.release();
  }
}

bool MuxSession::dispatch(const MuxFrame& f) {
  if (f.type == MuxType::kGoAway) {
    goaway_ = true;
    if (role_ == Role::kClient) {
      worker_.forgetMux(shared_from_this());
      if (streams_.empty()) close();
    }
    return !closed_;
  }
  if (f.type == MuxType::kOpen) {
    if (role_ != Role::kServer || f.stream < next_stream_) {
      TLOG_WARN("proxy: mux session {}: unexpected OPEN for stream {}", peer_, f.stream);
      close();
      return false;
    }
    next_stream_ = f.stream + 1;
    acceptStream(f.stream);
    return !closed_;
  }
  auto it = streams_.find(f.stream);
  if (it == streams_.end()) return true;  // crossed a RESET or the stream's end
  Connection* c = it->second;
  switch (f.type) {
    case MuxType::kData:
      c->onMuxData(f.payload.data(), f.payload.size());
      break;
    case MuxType::kFin:
      c->onMuxFin();
      break;
    case MuxType::kReset:
      c->onMuxReset();
      break;
    case MuxType::kWindow:
      c->onMuxWindow(f.increment);
      break;
    default:
      break;
  }
  return !closed_;
}

void MuxSession::acceptStream(uint32_t id) {
  if (streams_.size() >= kMaxStreams) {
    sendControl(MuxType::kReset, id);
    return;
  }
  auto c = worker_.newMuxStream(listener_, shared_from_this(), id);
  if (!c) {
    sendControl(MuxType::kReset, id);
    return;
  }
  streams_[id] = c.get();
  c->start();
}

void MuxSession::close() {
  if (closed_) return;
  auto self = shared_from_this();
  closed_ = true;
  boost::system::error_code ec;
  timer_.cancel();
  sock_.close(ec);
  if (fd_ >= 0) {
    if (ready_ && transport_) {
      // Best effort: what is queued, then close_notify. The fd closes below either way.
      while (!out_.empty()) {
        const IoResult w = transport_->write(out_.data(), out_.size());
        if (w.status != IoStatus::kOk) break;
        out_.consume(w.bytes);
      }
      transport_->shutdownWrite();
    }
    transport_.reset();
    ::close(fd_);
    fd_ = -1;
  }
  if (role_ == Role::kServer) {
    listener_->stats->connections_active.fetch_sub(1, std::memory_order_relaxed);
    if (counted_) listener_->stats->mux_sessions_active.fetch_sub(1, std::memory_order_relaxed);
  } else if (counted_) {
    cluster_->stats->mux_sessions_active.fetch_sub(1, std::memory_order_relaxed);
  }
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, c] : streams) c->onMuxReset();
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (Connection* c : waiters) c->onMuxFailed(Failure::kClosed);
  worker_.forgetMux(self);
}

}  // namespace trellis::proxy::data
