// Fuzz target for the CA's parsers: the same bytes go to the SPIFFE ID parser, the CSR parser and
// identity check (as PEM text, and base64-wrapped into a PEM block so DER parsing is reached), and
// the certificate/key PEM readers. None may crash or hang; a parsed SPIFFE ID must round-trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "ca/cert_util.h"
#include "ca/csr.h"
#include "ca/spiffe.h"

namespace {

std::string wrapAsCsrPem(const uint8_t* data, size_t size) {
  std::string b64(4 * ((size + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), data, static_cast<int>(size));
  b64.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

void checkCsr(std::string_view pem) {
  static const trellis::ca::SpiffeId kExpected = trellis::ca::ServiceId{
      "11111111-2222-3333-4444-555555555555.consul", "default", "default", "dc1", "web"};
  auto csr = trellis::ca::parseCsr(pem);
  if (!csr.isOk()) return;
  if (csr->public_key == nullptr) __builtin_trap();
  (void)trellis::ca::checkCsrIdentity(*csr, kExpected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > trellis::ca::kMaxPemBytes) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto id = trellis::ca::parseSpiffeId(text);
  if (id.isOk()) {
    std::string canonical = trellis::ca::formatSpiffeId(*id);
    auto again = trellis::ca::parseSpiffeId(canonical);
    if (!again.isOk() || !(*again == *id)) __builtin_trap();
    if (trellis::ca::formatSpiffeId(*again) != canonical) __builtin_trap();
  }

  checkCsr(text);
  checkCsr(wrapAsCsrPem(data, size));
  (void)trellis::ca::parseCertChainPem(text);
  (void)trellis::ca::parsePrivateKeyPem(text);
  return 0;
}
