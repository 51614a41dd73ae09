#include "proxy/data/transport.h"

#include <sys/socket.h>

#include <cerrno>

#include <openssl/err.h>

namespace trellis::proxy::data {
namespace {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}

  IoResult handshake() override { return {}; }

  IoResult read(char* buf, size_t len) override {
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, len, 0);
      if (n > 0) return {IoStatus::kOk, static_cast<size_t>(n)};
      if (n == 0) return {IoStatus::kEof};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWantRead};
      return {IoStatus::kError};
    }
  }

  IoResult write(const char* buf, size_t len) override {
    for (;;) {
      const ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
      if (n >= 0) return {IoStatus::kOk, static_cast<size_t>(n)};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWantWrite};
      return {IoStatus::kError};
    }
  }

  IoResult shutdownWrite() override {
    return {::shutdown(fd_, SHUT_WR) == 0 ? IoStatus::kOk : IoStatus::kError};
  }

 private:
  int fd_;
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, const TlsContext& ctx) : fd_(fd), ssl_(SSL_new(ctx.get())) {
    SSL_set_fd(ssl_, fd);
  }
  ~TlsTransport() override {
    keepSessionResumable(ssl_);
    SSL_free(ssl_);
  }

  IoResult handshake() override {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return {};
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return {IoStatus::kWantRead};
    if (e == SSL_ERROR_WANT_WRITE) return {IoStatus::kWantWrite};
    failure_ = classifyHandshakeFailure(ssl_, e);
    return {IoStatus::kError};
  }

  IoResult read(char* buf, size_t len) override {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_read_ex(ssl_, buf, len, &n) == 1) return {IoStatus::kOk, n};
    return mapError(SSL_get_error(ssl_, 0));
  }

  IoResult write(const char* buf, size_t len) override {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_write_ex(ssl_, buf, len, &n) == 1) return {IoStatus::kOk, n};
    return mapError(SSL_get_error(ssl_, 0));
  }

  IoResult shutdownWrite() override {
    if (!close_notify_sent_) {
      ERR_clear_error();
      const int r = SSL_shutdown(ssl_);
      if (r < 0) {
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_WRITE) return {IoStatus::kWantWrite};
        if (e == SSL_ERROR_WANT_READ) return {IoStatus::kWantRead};
        ERR_clear_error();
        // The peer is gone already; the FIN below still tells the truth.
      }
      close_notify_sent_ = true;
    }
    return {::shutdown(fd_, SHUT_WR) == 0 ? IoStatus::kOk : IoStatus::kError};
  }

  TlsFailure failure() const override { return failure_; }
  bool resumed() const override { return SSL_session_reused(ssl_) == 1; }
  std::string peerIdentity() const override { return peerSpiffeId(ssl_); }
  SSL* ssl() const override { return ssl_; }

 private:
  IoResult mapError(int e) {
    switch (e) {
      case SSL_ERROR_WANT_READ:
        return {IoStatus::kWantRead};
      case SSL_ERROR_WANT_WRITE:
        return {IoStatus::kWantWrite};
      case SSL_ERROR_ZERO_RETURN:
        return {IoStatus::kEof};
      default:
        ERR_clear_error();
        return {IoStatus::kError};
    }
  }

  int fd_;
  SSL* ssl_;
  bool close_notify_sent_ = false;
  TlsFailure failure_ = TlsFailure::kOther;
};

}  // namespace

std::unique_ptr<Transport> makePlainTransport(int fd) {
  return std::make_unique<PlainTransport>(fd);
}

std::unique_ptr<Transport> makeTlsServerTransport(int fd, const TlsContext& ctx,
                                                  const std::vector<std::string>* server_names) {
  auto t = std::make_unique<TlsTransport>(fd, ctx);
  SSL_set_accept_state(t->ssl());
  attachServerNames(t->ssl(), server_names);
  return t;
}

std::unique_ptr<Transport> makeTlsClientTransport(int fd, const TlsContext& ctx,
                                                  const TlsClientOptions& options) {
  auto t = std::make_unique<TlsTransport>(fd, ctx);
  SSL* ssl = t->ssl();
  SSL_set_connect_state(ssl);
  if (!options.sni.empty()) SSL_set_tlsext_host_name(ssl, options.sni.c_str());
  if (options.session != nullptr) offerSession(ssl, options.session);
  if (options.sink != nullptr) attachSessionSink(ssl, options.sink);
  return t;
}

}  // namespace trellis::proxy::data
