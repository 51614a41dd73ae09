#pragma once
// Server-side checks of an agent's certificate signing request, before anything is signed.
// Everything here is pure and refuses bad input with a one-line reason (HTTP 400 upstream).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ca/ossl.h"
#include "ca/spiffe.h"
#include "ca/types.h"
#include "common/status.h"

namespace trellis::ca {

inline constexpr int kMinRsaLeafBits = 2048;
// Bounds the CPU an RSA CSR can cost us; Consul's agents only ever send EC P-256.
inline constexpr int kMaxRsaLeafBits = 8192;

struct ParsedCsr {
  ossl::ReqPtr req;
  EVP_PKEY* public_key = nullptr;  // owned by `req`
  KeySpec key;
  std::vector<std::string> uri_sans;
  std::size_t other_sans = 0;  // DNS, IP, email, ... names
};

// Parses a PEM CSR (first block must be CERTIFICATE REQUEST) and checks its self-signature and
// key: EC P-256, or RSA of kMinRsaLeafBits..kMaxRsaLeafBits bits.
Result<ParsedCsr> parseCsr(std::string_view pem);

// The identity rule for leaves: exactly one SAN, a URI, that parses as a SPIFFE ID equal to
// `expected`. Returns the ID as found in the CSR.
Result<SpiffeId> checkCsrIdentity(const ParsedCsr& csr, const SpiffeId& expected);

}  // namespace trellis::ca
