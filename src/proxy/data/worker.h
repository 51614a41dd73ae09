#pragma once
// One worker: an io_context run by one thread, its own SO_REUSEPORT acceptor per listener, and
// every connection those acceptors produce (a connection never leaves its worker). The worker sees
// configs only as immutable CompiledConfig snapshots posted by the DataPlane.
//
// Threading: the constructor and post*/context() may be called from any thread; everything else
// runs on the worker thread (Connection calls back into it there).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/data/compiled_config.h"
#include "proxy/data/load_balancer.h"
#include "proxy/data/tls_context.h"

namespace trellis::proxy::data {

class Connection;
class MuxSession;

// Something registered with a worker's poller: told the epoll events of its fd.
class PollTarget {
 public:
  virtual void onPollEvents(uint32_t events) = 0;

 protected:
  ~PollTarget() = default;
};

struct WorkerOptions {
  size_t buffer_bytes = 64 * 1024;  // per direction per connection
  std::chrono::milliseconds handshake_timeout{10000};
  bool enforce_on_existing = true;
  // trellis-mux/1 (mux_session.h): offer it upstream and accept it inbound.
  bool mux = true;
  size_t mux_sessions_per_endpoint = 1;
};

struct ListenSocket {
  int fd = -1;
  bool v6 = false;
};

// A new config for one worker, plus the freshly bound sockets it must start accepting on
// (ownership of the fds passes to the worker). Listeners absent from `config` stop accepting;
// listeners present in both and not in `new_sockets` keep their acceptor.
struct WorkerUpdate {
  CompiledConfigPtr config;
  std::map<std::string, ListenSocket> new_sockets;
};

class Worker {
 public:
  Worker(size_t index, WorkerOptions options);
  ~Worker();

  boost::asio::io_context& context() { return ioc_; }
  // Runs the event loop until drained (see postDrain). Called once, on the worker thread.
  void run();
  void postUpdate(WorkerUpdate update);
  // Stops accepting, lets connections finish until `deadline`, then closes the rest and returns
  // from run().
  void postDrain(std::chrono::steady_clock::time_point deadline);
  size_t connectionCount() const { return connection_count_.load(); }

  // Worker thread only.
  std::shared_ptr<const CompiledCluster> cluster(const std::string& name) const;
  LbState& lbState(const std::string& cluster) { return lb_[cluster]; }
  SessionCache& sessions() { return sessions_; }
  const WorkerOptions& options() const { return options_; }
  // The connection is kept alive until the current event batch is over, then released.
  void remove(Connection* c);
  // Relayed sockets are registered once, edge-triggered for both directions, in the worker's
  // own epoll set; that set is waited on through asio. asio's async_wait would re-arm the socket
  // with an epoll_ctl on every wait (two per proxied request and direction in profiles).
  bool watch(int fd, PollTarget* target);
  // A watched fd changes hands (an inbound connection becoming a mux session and back).
  bool rewatch(int fd, PollTarget* target);

  // trellis-mux/1. The client session for endpoint `endpoint` of `cluster`, started on first
  // use; null when mux is off or the endpoint declined it recently.
  std::shared_ptr<MuxSession> muxClientFor(const std::shared_ptr<const CompiledCluster>& cluster,
                                           size_t endpoint);
  void muxDeclined(const std::string& key);
  // Server: an inbound connection (fd in the poller) becomes a session, on the worker with the
  // fewest sessions. A session's streams stay on its worker, and SO_REUSEPORT spreads few
  // connections unevenly (two client workers' sessions land on one server worker half the time),
  // so sessions are balanced once, right after the handshake and before any stream, the way
  // Envoy's exact connection balancer hands accepted sockets over.
  void adoptMuxServer(std::shared_ptr<const CompiledListener> listener, int fd,
                      std::unique_ptr<class Transport> transport, std::string peer);
  // Every worker of the data plane (set once, before the first connection).
  void setSiblings(std::shared_ptr<const std::vector<Worker*>> all) { siblings_ = std::move(all); }
  size_t muxServerLoad() const { return mux_server_load_.load(std::memory_order_relaxed); }
  // Server: the Connection for a new stream, registered but not started.
  std::shared_ptr<Connection> newMuxStream(const std::shared_ptr<const CompiledListener>& listener,
                                           std::shared_ptr<MuxSession> session, uint32_t id);
  // The session closed or stopped taking streams: out of the tables, freed after this batch.
  void forgetMux(const std::shared_ptr<MuxSession>& session);
  // The session has output to write at the end of this batch.
  void markMuxDirty(std::shared_ptr<MuxSession> session);

 private:
  struct Acceptor;
  void onUpdate(WorkerUpdate& update);
  void accept(const std::shared_ptr<Acceptor>& a);
  void enforce(const CompiledConfig* old_config, const CompiledConfig& config);
  void checkDrained();
  void armPoller();
  void onPollerReady();
  void flushMux();
  void releaseRetired();
  void startMuxServer(std::shared_ptr<const CompiledListener> listener, int fd,
                      std::unique_ptr<Transport> transport, std::string peer);

  size_t index_;
  WorkerOptions options_;
  boost::asio::io_context ioc_{1};  // run by one thread: asio may skip some locking
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  CompiledConfigPtr config_;
  std::map<std::string, std::shared_ptr<Acceptor>> acceptors_;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  std::vector<std::shared_ptr<Connection>> retired_;  // closed during the current handler
  std::vector<std::shared_ptr<MuxSession>> retired_mux_;
  bool retire_posted_ = false;
  // trellis-mux/1 sessions: client ones by endpoint key, server ones by address.
  std::unordered_map<std::string, std::vector<std::shared_ptr<MuxSession>>> mux_clients_;
  std::unordered_map<MuxSession*, std::shared_ptr<MuxSession>> mux_servers_;
  std::atomic<size_t> mux_server_load_{0};  // sessions here or on their way here
  std::shared_ptr<const std::vector<Worker*>> siblings_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> no_mux_until_;
  std::vector<std::shared_ptr<MuxSession>> mux_dirty_;
  bool in_batch_ = false;
  bool flush_posted_ = false;
  int epoll_fd_ = -1;
  boost::asio::posix::stream_descriptor poller_;
  std::atomic<size_t> connection_count_{0};
  std::unordered_map<std::string, LbState> lb_;
  SessionCache sessions_;
  bool draining_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  boost::asio::steady_timer drain_timer_;
};

}  // namespace trellis::proxy::data
