#pragma once
// The transport socket seam: how a connection moves bytes over one TCP socket, in plain text or
// TLS. Readiness-based and non-blocking: every call tries the operation now and, when it cannot
// progress, says which socket readiness (read or write) would let it; the connection then waits on
// the socket and calls again. TLS reads straight from the socket (a socket BIO of ours, with
// read-ahead), so a relayed byte is copied once into the connection's buffer and once out of it.
//
// Called only on the owning worker's thread. The connection owns the socket (and its fd) and must
// keep it open for the transport's lifetime.

#include <cstddef>
#include <memory>
#include <string>

#include "proxy/data/stats.h"
#include "proxy/data/tls_context.h"

namespace trellis::proxy::data {

enum class IoStatus { kOk, kWantRead, kWantWrite, kEof, kError };

struct IoResult {
  IoStatus status = IoStatus::kOk;
  size_t bytes = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // kOk once the handshake is complete (plain: at once). On kError, failure() says why.
  virtual IoResult handshake() = 0;
  // kOk with bytes > 0, or kEof (peer finished sending), kWantRead/kWantWrite, kError.
  virtual IoResult read(char* buf, size_t len) = 0;
  virtual IoResult write(const char* buf, size_t len) = 0;
  // True when the last successful read() left nothing behind: the socket returned less than asked
  // and (TLS) nothing is buffered in OpenSSL. The caller may then wait for readability instead of
  // calling read() once more only to get kWantRead.
  virtual bool drained() const { return false; }
  // TLS: write() gathers up to 64 KiB of records and sends them with one send(2); what the
  // socket did not take stays queued (pendingOutput) and goes out first, on the next write() or
  // on flushOutput() once the socket is writable. Callers must flush it before waiting on reads
  // only. (Plain: nothing is ever queued.)
  virtual bool pendingOutput() const { return false; }
  virtual IoResult flushOutput() { return {}; }
  // Half-close: tells the peer we send no more (TLS close_notify, then TCP FIN); reading goes on.
  virtual IoResult shutdownWrite() = 0;
  virtual TlsFailure failure() const { return TlsFailure::kOther; }
  virtual bool resumed() const { return false; }
  // Peer SPIFFE ID (TLS only, after the handshake).
  virtual std::string peerIdentity() const { return {}; }
  virtual SSL* ssl() const { return nullptr; }
  // The handshake negotiated trellis-mux/1 (TLS only).
  bool muxNegotiated() const { return ssl() != nullptr && muxSelected(ssl()); }
};

std::unique_ptr<Transport> makePlainTransport(int fd);

struct TlsClientOptions {
  std::string sni;
  SSL_SESSION* session = nullptr;  // resume this one if set (borrowed)
  SessionSink* sink = nullptr;     // where new sessions go (outlives the transport)
  bool offer_mux = false;          // offer trellis-mux/1 by ALPN
};
// `allow_mux`: select trellis-mux/1 when the client offers it.
std::unique_ptr<Transport> makeTlsServerTransport(int fd, const TlsContext& ctx,
                                                  const std::vector<std::string>* server_names,
                                                  bool allow_mux = false);
std::unique_ptr<Transport> makeTlsClientTransport(int fd, const TlsContext& ctx,
                                                  const TlsClientOptions& options);

}  // namespace trellis::proxy::data
