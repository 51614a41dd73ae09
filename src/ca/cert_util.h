#pragma once
// Certificate plumbing shared by the provider, the agent side and tests: PEM in and out, Consul's
// identifiers (colon-hex SHA-1 root IDs, SHA-256 key IDs, colon-hex serials), key generation and
// the agent's leaf key + CSR. Functions taking OpenSSL handles are for trellis_ca and its tests;
// the string-level ones are for everyone.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ca/ossl.h"
#include "ca/types.h"
#include "common/status.h"

namespace trellis::ca {

// PEM inputs larger than this are refused before OpenSSL parses them.
inline constexpr std::size_t kMaxPemBytes = 64 * 1024;

// Lower-case hex bytes joined by ':' ("0c:1a"), Consul's HexString.
std::string hexString(const unsigned char* data, std::size_t len);
inline std::string hexString(std::string_view bytes) {
  return hexString(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}
// Minimal big-endian bytes of the serial, colon-hex: 8 -> "08", 3098 -> "0c:1a".
std::string serialToHex(uint64_t serial);

Result<ossl::X509Ptr> parseCertPem(std::string_view pem);  // first block must be a CERTIFICATE
Result<std::vector<ossl::X509Ptr>> parseCertChainPem(std::string_view pem);  // one or more
Result<ossl::PkeyPtr> parsePrivateKeyPem(std::string_view pem);
Result<std::string> certToPem(X509* cert);
// Traditional encodings, as Consul writes them: "EC PRIVATE KEY" (SEC1) / "RSA PRIVATE KEY".
Result<std::string> privateKeyToPem(EVP_PKEY* key);

Result<ossl::PkeyPtr> generateKey(const KeySpec& spec);
// ec -> curve size in bits, rsa -> modulus bits; other key types are refused.
Result<KeySpec> keySpecOf(const EVP_PKEY* key);

// Root `ID`: colon-hex SHA-1 of the certificate DER.
std::string certId(X509* cert);
// Key identifier used for SubjectKeyId/AuthorityKeyId: SHA-256 of the DER SubjectPublicKeyInfo
// (32 raw bytes). Consul's KeyId; `SigningKeyID` is its colon-hex form.
Result<std::string> keyId(EVP_PKEY* key);
// The same from an already-encoded SubjectPublicKeyInfo, skipping OpenSSL 3.0's encoder (which
// costs ~100 us per call here; signing is hot).
Result<std::string> keyId(X509_PUBKEY* spki);
// Copies a SubjectPublicKeyInfo into `cert` field by field; X509_set_pubkey would re-encode the
// key through the encoder framework at ~250 us per call.
Status copyPublicKey(X509* cert, X509_PUBKEY* spki);
// Colon-hex of the certificate's SubjectKeyId / AuthorityKeyId extension; empty when absent.
std::string subjectKeyIdHex(X509* cert);
std::string authorityKeyIdHex(X509* cert);
// The low 64 bits of the serial (Go's big.Int.Uint64, which Consul uses for CARoot.SerialNumber);
// imported roots often carry 160-bit random serials.
uint64_t serialOf(X509* cert);
TimePoint fromAsn1Time(const ASN1_TIME* t);
Status setValidity(X509* cert, TimePoint not_before, TimePoint not_after);
// SHA-256 for RSA and P-256/P-224, SHA-384 for P-384, SHA-512 for P-521 (Go's SigAlgoForKey).
const EVP_MD* signatureDigest(const KeySpec& key);
// The published fields of a root certificate; intermediates and Name are left to the caller.
// SigningKeyID is the root's SubjectKeyId, since the built-in provider signs with the root key.
Result<CaRoot> describeRoot(X509* cert, std::string_view cluster_id);
// URI SANs of a certificate, in order.
std::vector<std::string> uriSans(X509* cert);

// The agent side of leaf issuance: a fresh key (EC P-256 unless told otherwise) and a PKCS#10
// CSR with an empty subject and `spiffe_uri` as its only SAN.
struct LeafKeyAndCsr {
  std::string private_key_pem;
  std::string csr_pem;
};
Result<LeafKeyAndCsr> generateLeafKeyAndCsr(std::string_view spiffe_uri, const KeySpec& key = {});

// Verifies `chain_pem` (leaf first, then intermediates) against `root_pems` as trust anchors at
// time `now`. Used by tests and by anything that wants `openssl verify` semantics in-process.
Status verifyChain(std::string_view chain_pem, const std::vector<std::string>& root_pems,
                   TimePoint now);

}  // namespace trellis::ca
