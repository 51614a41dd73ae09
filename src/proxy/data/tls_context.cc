#include "proxy/data/tls_context.h"

#include "proxy/data/mux_frame.h"

#include <algorithm>
#include <cctype>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace trellis::proxy::data {
namespace {

constexpr size_t kMaxPemBytes = 256 * 1024;
constexpr size_t kReadBufferBytes = 64 * 1024;
const unsigned char kSessionIdContext[] = "trellis-proxy";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string sslError(std::string_view what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  std::string out(what);
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += ": ";
    out += buf;
  }
  return out;
}

BioPtr memBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Status loadChain(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = memBio(pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) return invalidArgument(sslError("tls: bad certificate chain"));
  const int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) return invalidArgument(sslError("tls: certificate rejected"));
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return invalidArgument(sslError("tls: chain certificate rejected"));
    }
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  return Status::ok();
}

Status loadKey(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = memBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return invalidArgument(sslError("tls: bad private key"));
  const int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return invalidArgument(sslError("tls: private key does not match the certificate"));
  }
  return Status::ok();
}

Status loadRoots(SSL_CTX* ctx, const std::string& pem) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  BioPtr bio = memBio(pem);
  int n = 0;
  while (X509* root = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, root);
    X509_free(root);
    ++n;
  }
  ERR_clear_error();
  if (n == 0) return invalidArgument("tls: no trusted root certificate");
  return Status::ok();
}

int sessionIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
int serverNamesIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int muxIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Selects trellis-mux/1 when the client offers it and this SSL may speak it (allowMux); any other
// offer (h2, http/1.1 from Envoy) gets no ALPN at all, as before, and the connection stays a
// plain TLS stream.
int onAlpnSelect(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                 const unsigned char* in, unsigned int inlen, void*) {
  if (SSL_get_ex_data(ssl, muxIndex()) == nullptr) return SSL_TLSEXT_ERR_NOACK;
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int n = in[i];
    if (i + 1 + n > inlen) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == kMuxAlpn) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* sink = static_cast<SessionSink*>(SSL_get_ex_data(ssl, sessionIndex()));
  if (sink == nullptr || sink->cache == nullptr) return 0;
  sink->cache->store(sink->key, session);
  return 1;  // we keep the reference
}

int onServerName(SSL* ssl, int* alert, void*) {
  auto* names =
      static_cast<const std::vector<std::string>*>(SSL_get_ex_data(ssl, serverNamesIndex()));
  if (names == nullptr || names->empty()) return SSL_TLSEXT_ERR_OK;
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (sni != nullptr && std::find(names->begin(), names->end(), sni) != names->end()) {
    return SSL_TLSEXT_ERR_OK;
  }
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// A resumed handshake keeps the ticket it came with instead of getting a fresh one: no session
// to copy, derive a key for and cache here, none to parse and store on the client. It also
// bounds a session's life: a renewed session starts a new timeout, so a busy client could keep
// resuming on a chain verified once, long ago; without renewal the timeout counts from the full
// handshake that verified the peer's chain. Called at every server state transition; s->hit is
// known from the ClientHello on, well before the ticket would be written. The client side offers
// each connection a copy of its one session (offerSession), so that session serves them all.
void onServerInfo(const SSL* ssl, int where, int) {
  if ((where & SSL_CB_ACCEPT_LOOP) != 0 && SSL_session_reused(ssl) == 1) {
    SSL_set_num_tickets(const_cast<SSL*>(ssl), 0);
  }
}

std::string cacheKey(const TlsMaterial& m, TlsRole role, bool require_peer_cert) {
  std::string input;
  input += role == TlsRole::kServer ? 'S' : 'C';
  input += require_peer_cert ? '1' : '0';
  for (const std::string* s : {&m.cert_chain_pem, &m.private_key_pem, &m.trusted_ca_pem}) {
    input += std::to_string(s->size());
    input += ':';
    input += *s;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

}  // namespace

Result<TlsContextPtr> TlsContext::create(const TlsMaterial& material, TlsRole role,
                                         bool require_peer_cert) {
  for (const std::string* s :
       {&material.cert_chain_pem, &material.private_key_pem, &material.trusted_ca_pem}) {
    if (s->size() > kMaxPemBytes) return invalidArgument("tls: PEM input too large");
  }
  SSL_CTX* ctx = SSL_CTX_new(role == TlsRole::kServer ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) return internalError(sslError("tls: SSL_CTX_new"));
  std::shared_ptr<TlsContext> out(new TlsContext(ctx, role));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // Unexpected EOF reads as a clean close: at L4 a FIN is the end of the stream either way.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // No SSL_MODE_RELEASE_BUFFERS: it frees and reallocates both record buffers around every
  // read and write; keeping them (about 34 KiB per open TLS connection) cut the CPU per small
  // request by roughly a tenth in bench/proxy.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Whole records per read(2) instead of header-then-body: halves the syscalls on bulk streams.
  SSL_CTX_set_read_ahead(ctx, 1);
  // With read-ahead, one recv(2) fills this buffer: several records per syscall on bulk streams
  // (a trellis-mux/1 session carries many streams) instead of one.
  SSL_CTX_set_default_read_buffer_len(ctx, kReadBufferBytes);
  if (!material.cert_chain_pem.empty()) {
    if (Status s = loadChain(ctx, material.cert_chain_pem); !s) return s;
    if (Status s = loadKey(ctx, material.private_key_pem); !s) return s;
  } else if (role == TlsRole::kServer) {
    return invalidArgument("tls: a server needs a certificate");
  }
  if (Status s = loadRoots(ctx, material.trusted_ca_pem); !s) return s;
  if (role == TlsRole::kServer) {
    SSL_CTX_set_verify(
        ctx, SSL_VERIFY_PEER | (require_peer_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
    // Stateful resumption: the session (with the client's certificate, which RBAC needs) stays
    // in this context's cache and the ticket only names it. Stateless tickets would serialise
    // the certificate into every ticket and parse it back on every resumption, which with
    // OpenSSL 3.0's key decoders cost about 0.4 ms of CPU per new connection (measured with
    // perf on the new-connection-per-request run).
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    // A client sidecar keeps one session per upstream endpoint and worker, and resumptions reuse
    // it, so a few thousand entries cover many clients; each holds a decoded certificate (a few
    // KiB), which keeps the worst case within a sidecar's memory budget. Evicted: a full handshake.
    SSL_CTX_sess_set_cache_size(ctx, 2048);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_info_callback(ctx, onServerInfo);
    SSL_CTX_set_tlsext_servername_callback(ctx, onServerName);
    SSL_CTX_set_alpn_select_cb(ctx, onAlpnSelect, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  }
  return TlsContextPtr(std::move(out));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<TlsContextPtr> TlsContextCache::get(const TlsMaterial& material, TlsRole role,
                                           bool require_peer_cert) {
  const std::string key = cacheKey(material, role, require_peer_cert);
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.expired() ? entries_.erase(it) : std::next(it);
  }
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (auto ctx = it->second.lock()) return ctx;
  }
  auto ctx = TlsContext::create(material, role, require_peer_cert);
  if (!ctx) return ctx.status();
  ++builds_;
  entries_[key] = ctx.value();
  return ctx;
}

SessionCache::~SessionCache() {
  for (auto& [k, s] : sessions_) SSL_SESSION_free(s);
}

SSL_SESSION* SessionCache::find(const std::string& key) const {
  auto it = sessions_.find(key);
  return it == sessions_.end() ? nullptr : it->second;
}

void SessionCache::store(const std::string& key, SSL_SESSION* session) {
  auto [it, inserted] = sessions_.emplace(key, session);
  if (!inserted) {
    SSL_SESSION_free(it->second);
    it->second = session;
  }
}

void SessionCache::erase(const std::string& key) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  SSL_SESSION_free(it->second);
  sessions_.erase(it);
}

void attachSessionSink(SSL* ssl, SessionSink* sink) { SSL_set_ex_data(ssl, sessionIndex(), sink); }

void offerSession(SSL* ssl, SSL_SESSION* session) {
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (copy == nullptr) return;  // a full handshake, then
  SSL_set_session(ssl, copy);
  SSL_SESSION_free(copy);  // the SSL holds its own reference
}

void keepSessionResumable(SSL* ssl) {
  if (ssl == nullptr || SSL_is_init_finished(ssl) != 1) return;
  SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
}

void allowMux(SSL* ssl) { SSL_set_ex_data(ssl, muxIndex(), reinterpret_cast<void*>(1)); }

void offerMux(SSL* ssl) {
  unsigned char wire[1 + kMuxAlpn.size()];
  wire[0] = static_cast<unsigned char>(kMuxAlpn.size());
  std::copy(kMuxAlpn.begin(), kMuxAlpn.end(), wire + 1);
  SSL_set_alpn_protos(ssl, wire, sizeof(wire));
}

bool muxSelected(const SSL* ssl) {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl, &p, &n);
  return p != nullptr && std::string_view(reinterpret_cast<const char*>(p), n) == kMuxAlpn;
}

void attachServerNames(SSL* ssl, const std::vector<std::string>* names) {
  SSL_set_ex_data(ssl, serverNamesIndex(), const_cast<std::vector<std::string>*>(names));
}

TlsFailure classifyHandshakeFailure(SSL* ssl, int ssl_error) {
  const long verify = SSL_get_verify_result(ssl);
  unsigned long err = 0;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    if (err == 0) err = e;  // the first error is the root cause
  }
  ERR_clear_error();
  if (verify != X509_V_OK) {  // set only when a presented chain failed verification
    switch (verify) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        return TlsFailure::kExpired;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return TlsFailure::kNotYetValid;
      default:
        return TlsFailure::kUntrusted;
    }
  }
  if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
    return TlsFailure::kPeerClosed;
  }
  if (err == 0) return TlsFailure::kOther;
  const int reason = ERR_GET_REASON(err);
  if (reason >= SSL_AD_REASON_OFFSET) return TlsFailure::kPeerAlert;
  switch (reason) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return TlsFailure::kNoPeerCertificate;
    case SSL_R_CALLBACK_FAILED:
      return TlsFailure::kSniMismatch;  // the servername callback is our only callback
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return TlsFailure::kPeerClosed;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_UNSUPPORTED_PROTOCOL:
      return TlsFailure::kNotTls;
    default:
      return TlsFailure::kOther;
  }
}

std::vector<std::string> peerUriSans(SSL* ssl) {
  std::vector<std::string> out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string peerSpiffeId(SSL* ssl) {
  for (auto& uri : peerUriSans(ssl)) {
    if (!spiffeTrustDomain(uri).empty()) return uri;
  }
  return {};
}

std::string spiffeTrustDomain(std::string_view uri) {
  constexpr std::string_view kScheme = "spiffe://";
  if (uri.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(uri[i])) != kScheme[i]) return {};
  }
  std::string_view rest = uri.substr(kScheme.size());
  std::string td(rest.substr(0, rest.find('/')));
  for (char& c : td) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return td;
}

}  // namespace trellis::proxy::data
