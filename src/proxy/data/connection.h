#pragma once
// One proxied TCP connection, start to finish, on one worker thread:
//   downstream TLS handshake (inbound) -> identity checks -> RBAC -> pick an endpoint and connect
//   (retrying others on failure) -> upstream TLS handshake and SAN check (mesh clusters) -> relay.
// Every step is a readiness-driven state machine step (see transport.h); every failure closes the
// connection and bumps a counter. The connection keeps the listener and cluster snapshots it
// started with; only RBAC is re-checked when a new policy arrives (Worker::enforce).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/data/compiled_config.h"
#include "proxy/data/mux_session.h"
#include "proxy/data/relay_buffer.h"
#include "proxy/data/transport.h"
#include "proxy/data/worker.h"

namespace trellis::proxy::data {

class Worker;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Worker& worker, std::shared_ptr<const CompiledListener> listener,
             boost::asio::ip::tcp::socket socket);
  // Server side of a trellis-mux/1 stream: relays stream `id` of `session` to a new connection to
  // the listener's cluster. Counted as a stream, not as a downstream connection.
  Connection(Worker& worker, std::shared_ptr<const CompiledListener> listener,
             std::shared_ptr<MuxSession> session, uint32_t id);
  ~Connection();

  void start();
  // Idempotent. Removes the connection from its worker; pending handlers see `closed_`.
  void close();

  const std::string& listenerName() const { return listener_->config->name; }
  // Past the downstream handshake and RBAC: subject to re-checks by a new policy. (Streams of a
  // mux session are checked, and closed, through their session.)
  bool authorized() const { return state_ >= State::kConnecting && !closed_ && !mux_server_; }
  const std::string& peerIdentity() const { return peer_; }

  // From the MuxSession this connection streams over (mux_session.h).
  void onMuxOpen();                           // client: the session is ready, open a stream
  void onMuxFailed(MuxSession::Failure why);  // client: the session could not be had
  // Client: the peer declined trellis-mux/1; this connection keeps the TLS connection made.
  void onMuxDeclined(int fd, std::unique_ptr<Transport> transport);
  void onMuxData(const char* data, size_t len);
  void onMuxFin();
  void onMuxReset();
  void onMuxWindow(uint32_t increment);
  void onMuxWritable();

 private:
  enum class State { kDownHandshake, kConnecting, kUpHandshake, kRelaying };
  // One side. `sock` is asio's only until the TCP connection is up (accepted, or connected
  // upstream); then the fd is released to `fd` and registered with the worker's poller.
  struct Socket final : PollTarget {
    Socket(boost::asio::io_context& ioc, Connection* c) : sock(ioc), owner(c) {}
    void onPollEvents(uint32_t events) override { owner->onSocketEvents(*this, events); }
    boost::asio::ip::tcp::socket sock;
    Connection* owner;
    int fd = -1;
    std::unique_ptr<Transport> transport;
    bool want_read = false;
    bool want_write = false;
    bool drained = false;  // a read emptied the socket: read again only once it is readable
    bool hup = false;      // the poller saw RDHUP/HUP/ERR: a FIN or error waits behind any data
    bool eof = false;      // peer finished sending
    bool shut = false;     // we finished sending
  };

  void pump();
  void onDownstreamReady();
  void connectUpstream();
  void onConnected(const boost::system::error_code& ec, uint64_t attempt);
  void onUpstreamReady();
  void startRelay();
  bool relay();
  bool muxRelay();
  bool muxDeliver();  // pending stream bytes to the local socket; false when closed
  void muxAck(size_t delivered);
  bool move(Socket& src, Socket& dst, RelayBuffer& buf, bool downstream_to_upstream);
  void want(Socket& s, IoStatus status);
  // Takes the connected fd from asio into the worker's poller; false if that failed.
  bool adopt(Socket& s);
  void onSocketEvents(Socket& s, uint32_t events);
  void armTimer(std::chrono::steady_clock::duration after);
  void onTimer();

  Worker& worker_;
  std::shared_ptr<const CompiledListener> listener_;
  std::shared_ptr<const CompiledCluster> cluster_;
  Socket down_;
  Socket up_;
  boost::asio::steady_timer timer_;
  State state_ = State::kDownHandshake;
  bool closed_ = false;
  std::string peer_;
  // Upstream attempts: endpoints already tried, and an attempt id so a stale connect or timer
  // completion is recognised.
  std::vector<size_t> tried_;
  uint64_t attempt_ = 0;
  bool connect_timed_out_ = false;
  std::string endpoint_key_;  // counted in the worker's least-request state while set
  SessionSink session_sink_;
  std::optional<RelayBuffer> to_upstream_;
  std::optional<RelayBuffer> to_downstream_;
  std::chrono::steady_clock::time_point last_activity_;

  // trellis-mux/1: this connection's far side is stream `stream_id_` of `mux_`. The plain socket
  // relayed with it is `local_`: down_ on the client side, up_ on the server side.
  std::shared_ptr<MuxSession> mux_;
  uint32_t stream_id_ = 0;
  bool mux_server_ = false;
  bool mux_open_ = false;  // client: the stream exists (OPEN sent)
  Socket* local_ = nullptr;
  uint32_t send_credit_ = kMuxInitialWindow;
  size_t recv_unacked_ = 0;                 // delivered to local_ and not yet credited back
  std::optional<RelayBuffer> mux_pending_;  // stream bytes local_ has not taken yet
  bool mux_fin_sent_ = false;
  bool mux_fin_received_ = false;
  bool mux_reset_received_ = false;
  bool mux_done_ = false;    // ended cleanly: no RESET
  bool handed_off_ = false;  // became a server MuxSession: the session owns fd and counters
};

}  // namespace trellis::proxy::data
