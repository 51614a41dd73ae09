#pragma once
// OpenSSL contexts for the proxy's two TLS sides. A context is built once per distinct TlsMaterial
// (cache keyed by a hash of the PEMs and the role), so a config push that repeats the same
// certificates reuses the context, its session-ticket keys and its parsed trust store. A new leaf
// or new roots produce a new context: connections that already hold the old one keep it (their
// SSL objects reference it), new connections get the new one. That is the whole rotation story.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "common/status.h"
#include "proxy/config.h"
#include "proxy/data/stats.h"

namespace trellis::proxy::data {

enum class TlsRole { kServer, kClient };

class TlsContext {
 public:
  // TLS 1.2 and 1.3; the peer must present a chain that verifies against material.trusted_ca_pem
  // (servers fail the handshake without a client certificate when `require_peer_cert`).
  static Result<std::shared_ptr<const TlsContext>> create(const TlsMaterial& material, TlsRole role,
                                                          bool require_peer_cert);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  TlsRole role() const { return role_; }

 private:
  TlsContext(SSL_CTX* ctx, TlsRole role) : ctx_(ctx), role_(role) {}
  SSL_CTX* ctx_;
  TlsRole role_;
};
using TlsContextPtr = std::shared_ptr<const TlsContext>;

// Thread-safe; holds contexts weakly, so one disappears with the last config that used it.
class TlsContextCache {
 public:
  Result<TlsContextPtr> get(const TlsMaterial& material, TlsRole role, bool require_peer_cert);
  size_t builds() const { return builds_.load(); }  // contexts actually created (tests, stats)

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<const TlsContext>> entries_;
  std::atomic<size_t> builds_{0};
};

// Upstream sessions of one worker, per endpoint: a ticket names a session in one server
// instance's cache, so it only helps with the endpoint that issued it. One session serves every
// connection of the worker to that endpoint (each gets a copy: offerSession) until a full
// handshake replaces it (onNewSession).
// Worker-local: no lock.
class SessionCache {
 public:
  ~SessionCache();
  SSL_SESSION* find(const std::string& key) const;           // borrowed
  void store(const std::string& key, SSL_SESSION* session);  // takes ownership
  void erase(const std::string& key);

 private:
  std::map<std::string, SSL_SESSION*> sessions_;
};

// Where a client SSL's new-session callback files the session: set on the SSL before the
// handshake (see attachSessionSink); both must outlive the SSL.
struct SessionSink {
  SessionCache* cache = nullptr;
  std::string key;
};
void attachSessionSink(SSL* ssl, SessionSink* sink);

// Client: offers `session` (borrowed) for resumption through a private copy. OpenSSL retires a
// TLS 1.3 session after one use (and when a connection closes badly) by marking the object the
// SSL holds; the copy takes that mark, and the worker's SessionCache keeps the original resumable
// for the other connections to the endpoint (the server does not renew tickets on resumption).
void offerSession(SSL* ssl, SSL_SESSION* session);

// Call right before SSL_free. A connection whose handshake finished counts as closed in order
// even without a close_notify sent (reset, peer gone, idle close): otherwise OpenSSL drops its
// session from the server's cache and marks the client's copy, the one the worker's
// SessionCache holds, not resumable, so the next connection pays a full handshake. That rule
// is TLS 1.0's; TLS 1.1 dropped it (RFC 5246, 7.2.1). A failed or unfinished handshake, or a
// fatal alert later (which removes the session at once), keeps OpenSSL's default.
void keepSessionResumable(SSL* ssl);

// trellis-mux/1 over ALPN (see mux_frame.h). Server: this SSL may select it when offered.
// Client: offer it. Both: whether the handshake settled on it.
void allowMux(SSL* ssl);
void offerMux(SSL* ssl);
bool muxSelected(const SSL* ssl);

// Inbound: the listener's SNI list; the servername callback rejects other names.
void attachServerNames(SSL* ssl, const std::vector<std::string>* names);

// Maps a failed handshake (the SSL's verify result and this thread's error queue, which it
// clears) onto a counted reason.
TlsFailure classifyHandshakeFailure(SSL* ssl, int ssl_error);

// The first spiffe:// URI SAN of the peer's leaf, or "" when there is none.
std::string peerSpiffeId(SSL* ssl);
// Every URI SAN of the peer's leaf.
std::vector<std::string> peerUriSans(SSL* ssl);

// "spiffe://<td>/..." -> "<td>" (lower-cased as Consul compares them); "" when not SPIFFE.
std::string spiffeTrustDomain(std::string_view uri);

}  // namespace trellis::proxy::data
