// Leaf signatures per second through BuiltinProvider::signLeaf (CSR parse + verify + identity
// check + sign), next to the raw ECDSA P-256 sign rate measured in the same run, which is the
// physical limit (`openssl speed ecdsap256` measures the same primitives), and the raw verify +
// sign pair every leaf needs at least.
//   ca_sign_bench [seconds per phase, default 2] [distinct CSRs, default 1000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ca/builtin_provider.h"
#include "ca/cert_util.h"

namespace {

using Steady = std::chrono::steady_clock;
using trellis::ca::BuiltinProvider;

// Raw ECDSA operations per second on a prehashed digest: sign, or verify when `verify`.
double rawRate(EVP_PKEY* key, double seconds, bool verify) {
  unsigned char digest[32] = {1, 2, 3};
  unsigned char sig[128];
  size_t sig_len = sizeof(sig);
  trellis::ca::ossl::PkeyCtxPtr signer(EVP_PKEY_CTX_new(key, nullptr));
  if (!signer || EVP_PKEY_sign_init(signer.get()) != 1 ||
      EVP_PKEY_sign(signer.get(), sig, &sig_len, digest, sizeof(digest)) != 1) {
    std::fprintf(stderr, "raw sign failed\n");
    std::exit(1);
  }
  long count = 0;
  auto start = Steady::now();
  std::chrono::duration<double> elapsed{};
  while (elapsed.count() < seconds) {
    for (int i = 0; i < 100; ++i, ++count) {
      trellis::ca::ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
      size_t len = sizeof(sig);
      unsigned char out[128];
      bool ok = verify ? (EVP_PKEY_verify_init(ctx.get()) == 1 &&
                          EVP_PKEY_verify(ctx.get(), sig, sig_len, digest, sizeof(digest)) == 1)
                       : (EVP_PKEY_sign_init(ctx.get()) == 1 &&
                          EVP_PKEY_sign(ctx.get(), out, &len, digest, sizeof(digest)) == 1);
      if (!ok) {
        std::fprintf(stderr, "raw operation failed\n");
        std::exit(1);
      }
    }
    elapsed = Steady::now() - start;
  }
  return static_cast<double>(count) / elapsed.count();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  int distinct = argc > 2 ? std::atoi(argv[2]) : 1000;
  if (seconds <= 0 || distinct <= 0) {
    std::fprintf(stderr, "usage: ca_sign_bench [seconds] [distinct CSRs]\n");
    return 2;
  }
  trellis::ca::RootOptions options;
  options.cluster_id = "11111111-2222-3333-4444-555555555555";
  options.serial = 1;
  options.now = std::chrono::time_point_cast<std::chrono::seconds>(trellis::ca::Clock::now());
  auto stored = BuiltinProvider::generateRoot(options);
  if (!stored) return std::fprintf(stderr, "%s\n", stored.status().message().c_str()), 1;
  auto provider = BuiltinProvider::create(*stored);
  if (!provider) return std::fprintf(stderr, "%s\n", provider.status().message().c_str()), 1;

  std::vector<std::string> csrs;
  std::vector<trellis::ca::ServiceId> ids;
  for (int i = 0; i < distinct; ++i) {
    trellis::ca::ServiceId id{stored->root.trust_domain, "default", "default", "dc1",
                              "svc-" + std::to_string(i)};
    auto made = trellis::ca::generateLeafKeyAndCsr(trellis::ca::formatSpiffeId(id));
    if (!made) return std::fprintf(stderr, "%s\n", made.status().message().c_str()), 1;
    csrs.push_back(made->csr_pem);
    ids.push_back(std::move(id));
  }

  uint64_t serial = 2;
  long signed_count = 0;
  auto start = Steady::now();
  std::chrono::duration<double> elapsed{};
  while (elapsed.count() < seconds) {
    for (int i = 0; i < distinct && i < 100; ++i) {
      std::size_t k = static_cast<std::size_t>(signed_count) % csrs.size();
      auto leaf =
          (*provider)->signLeaf({csrs[k], ids[k], std::chrono::hours(72), serial++, options.now});
      if (!leaf) return std::fprintf(stderr, "%s\n", leaf.status().message().c_str()), 1;
      ++signed_count;
    }
    elapsed = Steady::now() - start;
  }
  double leaf_rate = static_cast<double>(signed_count) / elapsed.count();

  auto key = trellis::ca::parsePrivateKeyPem(stored->signing_key_pem);
  if (!key) return 1;
  double sign_rate = rawRate(key->get(), seconds, false);
  double verify_rate = rawRate(key->get(), seconds, true);
  // Every leaf costs one CSR signature verify plus one signature: the floor for this design.
  double floor_rate = 1.0 / (1.0 / sign_rate + 1.0 / verify_rate);
  std::printf("leaf signs (CSR verify + sign):  %10.0f /s\n", leaf_rate);
  std::printf("raw ECDSA P-256 signs:           %10.0f /s\n", sign_rate);
  std::printf("raw ECDSA P-256 verifies:        %10.0f /s\n", verify_rate);
  std::printf("raw verify+sign pairs:           %10.0f /s\n", floor_rate);
  std::printf("ratio leaf/raw sign:             %10.2f\n", leaf_rate / sign_rate);
  std::printf("ratio leaf/raw verify+sign:      %10.2f\n", leaf_rate / floor_rate);
  return 0;
}
