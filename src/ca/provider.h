#pragma once
// The CA provider seam: whatever holds the signing key. The built-in provider (builtin_provider.h)
// keeps the key in the replicated log; a Vault provider will keep it in Vault and implement the
// same calls over HTTP.
//
// Lifecycle and threads:
// - The server builds a provider from the active root it reads from the state store (for the
//   built-in one, BuiltinProvider::create), once per active root, and shares it as
//   std::shared_ptr<const Provider>. A root rotation builds a new provider; the old one lives on
//   only until its last in-flight signing call returns.
// - signLeaf and crossSign are const and may run concurrently on any number of threads. They do
//   slow public-key work (an ECDSA verify plus a sign, tens of microseconds; RSA 4096 signing takes
//   milliseconds), so callers run them on a CA worker thread, never on an event loop.
// - Providers never touch the log, the clock or the serial counter: the leader reserves the serial
//   (a cluster-wide counter kept in the log) and passes it in with `now`, so replaying a sign
//   request is deterministic apart from the signature bytes.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ca/spiffe.h"
#include "ca/types.h"
#include "common/status.h"

namespace trellis::ca {

// Leaves start one minute in the past so that servers and agents a little ahead of us accept
// them at once (Consul's choice; clock drift inside a datacenter is far below this).
inline constexpr std::chrono::seconds kBackdate{60};
// Lifetime of a cross-signed root: it only has to outlive the leaves of the old root.
inline constexpr std::chrono::hours kCrossSignedLifetime{7 * 24};

struct LeafRequest {
  std::string_view csr_pem;
  // Built by the server from the request (trust domain, datacenter, service or agent name), never
  // from the CSR: the CSR must match it exactly.
  SpiffeId expected_id;
  std::chrono::seconds ttl{72 * 3600};  // LeafCertTTL
  uint64_t serial = 0;                  // next value of the cluster-wide counter; must be > 0
  TimePoint now;
};

class Provider {
 public:
  virtual ~Provider() = default;

  // The root this provider signs under, in its published form (no key).
  virtual const CaRoot& activeRoot() const = 0;

  // Checks the CSR (signature, key type, exactly one URI SAN equal to expected_id, which must be
  // a service or agent ID) and signs a leaf valid from now - kBackdate for `ttl`. Refusals are
  // kInvalidArgument with a one-line reason; kInternal means the provider itself failed.
  virtual Result<IssuedLeaf> signLeaf(const LeafRequest& request) const = 0;

  // Root rotation: certifies the new root's key and subject under this provider's root, so that
  // leaves of the new root verify for peers that still trust only this (old) root. Returns the
  // PEM to put in the new root's IntermediateCerts.
  virtual Result<std::string> crossSign(std::string_view new_root_pem, uint64_t serial,
                                        TimePoint now) const = 0;

  // False for providers that cannot cross-sign; rotation then needs ForceWithoutCrossSigning.
  virtual bool supportsCrossSigning() const = 0;
};

}  // namespace trellis::ca
