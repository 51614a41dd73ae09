#pragma once
// Shared by the data-plane integration tests: a throwaway PKI (trellis_ca's built-in provider),
// an echo server, blocking socket and TLS clients, and a sidecar-pair config builder.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "ca/builtin_provider.h"
#include "ca/cert_util.h"
#include "ca/spiffe.h"
#include "proxy/config.h"

namespace trellis::proxy::data::testing {

using namespace std::chrono_literals;

inline ca::TimePoint wallNow() {
  return std::chrono::time_point_cast<std::chrono::seconds>(ca::Clock::now());
}

// One CA (trust domain "<cluster_id>.consul") that signs service leaves at any time offset.
class Pki {
 public:
  explicit Pki(const std::string& cluster_id) : td_(cluster_id + ".consul") {
    ca::RootOptions o;
    o.cluster_id = cluster_id;
    o.serial = 1;
    o.now = wallNow() - std::chrono::hours(24 * 60);
    auto stored = ca::BuiltinProvider::generateRoot(o);
    if (stored.isOk()) {
      root_pem_ = stored->root.root_cert_pem;
      auto p = ca::BuiltinProvider::create(stored.value());
      if (p.isOk()) provider_ = std::move(p.value());
    }
  }
  bool ok() const { return provider_ != nullptr; }
  const std::string& td() const { return td_; }
  const std::string& rootPem() const { return root_pem_; }
  std::string uri(const std::string& svc, const std::string& td = "") const {
    return "spiffe://" + (td.empty() ? td_ : td) + "/ns/default/dc/dc1/svc/" + svc;
  }
  std::string sni(const std::string& svc) const { return svc + ".default.dc1.internal." + td_; }

  // A leaf for `svc`, issued `offset` from now and valid for `ttl`; `uri_td` puts another trust
  // domain into the SAN (this CA signs whatever it is told: tests only).
  TlsMaterial leaf(const std::string& svc, std::chrono::seconds offset = 0s,
                   std::chrono::seconds ttl = std::chrono::hours(72),
                   const std::string& uri_td = "") {
    TlsMaterial m;
    const std::string td = uri_td.empty() ? td_ : uri_td;
    auto kc = ca::generateLeafKeyAndCsr(uri(svc, td));
    if (!kc.isOk()) return m;
    ca::LeafRequest req;
    req.csr_pem = kc->csr_pem;
    req.expected_id = ca::ServiceId{td, "default", "default", "dc1", svc};
    req.ttl = ttl;
    req.serial = ++serial_;
    req.now = wallNow() + offset;
    auto leaf = provider_->signLeaf(req);
    if (!leaf.isOk()) return m;
    m.cert_chain_pem = leaf->cert_pem;
    m.private_key_pem = kc->private_key_pem;
    m.trusted_ca_pem = root_pem_;
    return m;
  }

 private:
  std::string td_;
  std::string root_pem_;
  std::unique_ptr<ca::BuiltinProvider> provider_;
  uint64_t serial_ = 100;
};

// Echoes every byte; on EOF from the client it half-closes back after echoing everything.
// `silent` servers accept and never read (a slow reader).
class EchoServer {
 public:
  explicit EchoServer(bool silent = false) : silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    ::listen(fd_, 128);
    socklen_t len = sizeof(sa);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~EchoServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : conns_) t.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void loop() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      conns_.emplace_back([this, c] {
        if (silent_) {
          while (!stop_) std::this_thread::sleep_for(10ms);
          ::close(c);
          return;
        }
        char buf[16384];
        for (;;) {
          const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
          if (n <= 0) break;
          for (ssize_t off = 0; off < n;) {
            const ssize_t w = ::send(c, buf + off, n - off, MSG_NOSIGNAL);
            if (w <= 0) break;
            off += w;
          }
        }
        ::shutdown(c, SHUT_WR);
        ::close(c);
      });
    }
  }

  bool silent_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

// A port nothing listens on.
inline uint16_t deadPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

// Blocking client socket with a receive timeout.
inline int dial(uint16_t port, std::chrono::milliseconds rcv_timeout = 3000ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{static_cast<time_t>(rcv_timeout.count() / 1000),
             static_cast<suseconds_t>((rcv_timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

inline bool sendAll(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

// Reads exactly n bytes (or fewer on EOF/timeout/error).
inline std::string recvN(int fd, size_t n) {
  std::string out;
  char buf[16384];
  while (out.size() < n) {
    const ssize_t r = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, r);
  }
  return out;
}

// True when the peer closes (EOF or reset) within `within`, ignoring data that arrives first.
inline bool closedWithin(int fd, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;
  }
  return false;
}

inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds within = 3000ms) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

// A blocking TLS client over dial(): presents `material` (when it has a cert), trusts its roots,
// sends `sni`, offers `resume` when set. Returns the SSL (nullptr when the handshake itself
// failed); frees on destruction.
class TlsClient {
 public:
  TlsClient(uint16_t port, const TlsMaterial& material, const std::string& sni, int max_version = 0,
            SSL_SESSION* resume = nullptr) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (!material.cert_chain_pem.empty()) {
      BIO* b = BIO_new_mem_buf(material.cert_chain_pem.data(), -1);
      X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
      SSL_CTX_use_certificate(ctx_, c);
      X509_free(c);
      BIO_free(b);
      b = BIO_new_mem_buf(material.private_key_pem.data(), -1);
      EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
      SSL_CTX_use_PrivateKey(ctx_, k);
      EVP_PKEY_free(k);
      BIO_free(b);
    }
    fd_ = dial(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl_, sni.c_str());
    if (resume != nullptr) SSL_set_session(ssl_, resume);
    handshake_ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool handshakeOk() const { return handshake_ok_; }
  SSL* ssl() const { return ssl_; }
  // Round trip through the echo server; "" when the proxy closed us.
  std::string echo(const std::string& msg) {
    if (SSL_write(ssl_, msg.data(), static_cast<int>(msg.size())) <= 0) return "";
    std::string out;
    char buf[4096];
    while (out.size() < msg.size()) {
      const int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, n);
    }
    ERR_clear_error();
    return out;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool handshake_ok_ = false;
};

}  // namespace trellis::proxy::data::testing
