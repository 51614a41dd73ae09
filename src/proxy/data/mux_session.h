#pragma once
// One trellis-mux/1 connection between two Trellis sidecars (framing: mux_frame.h), on one worker.
//
// Client side: a worker keeps one session per upstream endpoint (and TLS identity); outbound
// connections to that endpoint become streams on it instead of paying a TCP and TLS handshake
// each. The first connection starts the session (connect, TLS with ALPN offering trellis-mux/1,
// the same SPIFFE checks as a direct connection); connections that arrive meanwhile wait on it.
// A peer that does not select the protocol (Envoy, or a sidecar run with -mux=false) is remembered
// and gets direct connections; the first waiter takes over the TLS connection already made.
//
// Server side: an inbound connection whose handshake selected trellis-mux/1 passes its identity
// and RBAC checks once, then becomes a session; every OPEN is a Connection (connection.h) relaying
// between the stream and a new connection to the listener's cluster (the local app). A policy
// change that denies the peer closes the session and with it every stream (Worker::enforce).
//
// Data path: frames from all streams are appended to one output buffer and written with
// SSL_write at the end of the worker's event batch (Worker::flushMux), so many small writes share
// TLS records and syscalls. Per-stream windows (kMuxInitialWindow) bound what a stream may have in
// flight; a stream whose local socket is slow stops returning credit, so memory stays bounded.
// The session's output buffer is bounded too: streams stop reading from their sockets above the
// high-water mark and are woken when it drains.
//
// Worker thread only. Streams are identified by id in every table here, so a stream that closed
// is simply not found.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/data/compiled_config.h"
#include "proxy/data/mux_frame.h"
#include "proxy/data/transport.h"
#include "proxy/data/worker.h"

namespace trellis::proxy::data {

class Connection;

// A growable byte queue for the session's input and output (no zero-fill on growth).
class ByteQueue {
 public:
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  const char* data() const { return buf_.get() + begin_; }
  void consume(size_t n);
  // Room for `n` more bytes at the tail (compacts or grows); valid until the next call.
  char* prepare(size_t n);
  void commit(size_t n) { end_ += n; }
  void append(const char* p, size_t n);
  size_t capacity() const { return cap_; }
  void release();  // frees the storage when empty

 private:
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

class MuxSession final : public PollTarget, public std::enable_shared_from_this<MuxSession> {
 public:
  enum class Role { kClient, kServer };
  // Why waiting connections were let go (client).
  enum class Failure { kConnect, kTls, kDeclined, kClosed };

  // Client: connects to endpoint `endpoint` of `cluster`; `key` names the session in the worker.
  MuxSession(Worker& worker, std::shared_ptr<const CompiledCluster> cluster, size_t endpoint,
             std::string key);
  // Server: takes over an inbound connection whose handshake selected trellis-mux/1 and whose
  // peer passed the listener's checks. `fd` is already in the worker's poller.
  MuxSession(Worker& worker, std::shared_ptr<const CompiledListener> listener, int fd,
             std::unique_ptr<Transport> transport, std::string peer);
  ~MuxSession();

  void start();
  // Idempotent: resets every stream, lets go of waiters, closes the TLS connection.
  void close();
  bool closed() const { return closed_; }
  // Client: no new streams (closed, going away, or out of stream ids).
  bool usable() const { return !closed_ && !goaway_ && next_stream_ < 0x7FFFFFFFu; }
  Role role() const { return role_; }
  const std::string& key() const { return key_; }
  const std::string& peerIdentity() const { return peer_; }
  const std::string& listenerName() const;
  size_t streamCount() const { return streams_.size(); }
  // Client: streams plus connections waiting for the handshake.
  size_t load() const { return streams_.size() + waiters_.size(); }

  // Client: `c` wants a stream; it hears back through Connection::onMuxOpen (now or once the
  // handshake is done) or Connection::onMuxFailed.
  void attach(Connection* c);
  void detach(Connection* c);  // a waiter that closed
  // Client, ready: a new stream for `c` (sends OPEN); its id.
  uint32_t open(Connection* c);

  // Stream I/O (Connection). Data: prepareData gives room for `n` payload bytes after a frame
  // header; commitData frames what was actually written there (0: nothing).
  bool canSend() const { return out_.size() < kHighWater; }
  char* prepareData(size_t n);
  void commitData(uint32_t stream, size_t n);
  void sendControl(MuxType type, uint32_t stream, uint32_t increment = 0);
  void waitWritable(uint32_t stream);  // woken (Connection::onMuxWritable) below the low mark
  void removeStream(uint32_t stream);
  // Server: stop accepting new streams gracefully (drain): GOAWAY, then keep serving.
  void goAway();

  // Worker: writes the output buffer (end of an event batch).
  void flush();

  void onPollEvents(uint32_t events) override;

 private:
  static constexpr size_t kHighWater = 256 * 1024;
  static constexpr size_t kLowWater = 64 * 1024;
  static constexpr size_t kFlushAt = 64 * 1024;
  static constexpr size_t kMaxStreams = 8192;
  static constexpr std::chrono::seconds kClientIdle{30};

  void onConnected(const boost::system::error_code& ec);
  void handshake();
  void onReady();
  void fail(Failure why);
  void readFrames();
  bool dispatch(const MuxFrame& f);  // false: protocol error (the session is closed)
  void acceptStream(uint32_t id);
  void markDirty();
  void wakeWriters();
  void armIdle(std::chrono::steady_clock::duration after);
  std::chrono::steady_clock::duration idleLimit() const;

  Worker& worker_;
  Role role_;
  std::shared_ptr<const CompiledCluster> cluster_;    // client
  std::shared_ptr<const CompiledListener> listener_;  // server
  size_t endpoint_ = 0;
  std::string key_;
  std::string peer_;
  boost::asio::ip::tcp::socket sock_;  // client, until connected
  boost::asio::steady_timer timer_;
  int fd_ = -1;
  std::unique_ptr<Transport> transport_;
  SessionSink session_sink_;
  bool started_ = false;
  bool counted_ = false;  // in the sessions-active gauge
  bool idle_armed_ = false;
  bool ready_ = false;
  bool closed_ = false;
  bool goaway_ = false;  // client: the server asked; server: we sent it
  bool dirty_ = false;
  bool want_write_ = false;
  bool read_wants_write_ = false;
  bool drained_ = false;
  bool hup_ = false;
  ByteQueue in_;
  ByteQueue out_;
  std::unordered_map<uint32_t, Connection*> streams_;
  std::vector<Connection*> waiters_;  // client, before the handshake is done
  std::vector<uint32_t> blocked_;     // streams waiting for room in out_
  uint32_t next_stream_ = 1;          // client: next id to open; server: lowest acceptable id
  std::chrono::steady_clock::time_point idle_since_;  // when the last stream ended
};

}  // namespace trellis::proxy::data
