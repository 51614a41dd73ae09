// Writes the seed corpus of the proxy_xds_ingest fuzz target (see its header for the format):
// the generators' responses for each test snapshot, with real certificates, in the server's
// order and in hostile ones. Usage: proxy_xds_ingest_seed <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "proxy/xds/ingest.h"
#include "proxy/xds/testing/snapshots.h"
#include "xds/generators/test_snapshots.h"

namespace {

using namespace trellis::proxy::xds;
namespace gen = trellis::xds::testing;
using testing::DeltaResponse;
using testing::responseFor;

class Seed {
 public:
  Seed& frame(const std::string& bytes) {
    const size_t n = bytes.size();
    out_ += static_cast<char>(n & 0xff);
    out_ += static_cast<char>((n >> 8) & 0xff);
    out_ += static_cast<char>((n >> 16) & 0xff);
    out_ += bytes;
    return *this;
  }
  Seed& response(const DeltaResponse& r) { return frame(r.SerializeAsString()); }
  Seed& all(const trellis::xds::ResourceSet& set, bool secrets = false) {
    response(responseFor(set, kClusterType));
    response(responseFor(set, kEndpointType));
    if (secrets) response(responseFor(set, kSecretType));
    return response(responseFor(set, kListenerType));
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

DeltaResponse removal(std::string_view type, const std::string& name) {
  DeltaResponse r;
  r.set_type_url(std::string(type));
  r.set_system_version_info("9");
  r.add_removed_resources(name);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  const std::string td = gen::kTrustDomain;
  const std::string db = "db.default.dc1.internal." + td;
  auto pki = testing::makeTestPki("spiffe://" + td + "/ns/default/dc/dc1/svc/web");
  auto certs = [&](trellis::proxycfg::ConfigSnapshot s) { return testing::withCerts(s, pki); };
  auto tcp = testing::generateSet(certs(gen::tcpSidecar()));
  auto sds = testing::generateSet(certs(gen::sdsSidecar()));
  auto deny = testing::generateSet(certs(gen::defaultDenySidecar()));
  auto http = testing::generateSet(certs(gen::httpSidecar()));
  auto proxyless = testing::generateSet(gen::proxyless());
  auto placeholders = testing::generateSet(gen::tcpSidecar());
  auto rotated = testing::generateSet(
      testing::withCerts(gen::sdsSidecar("02"), testing::makeTestPki("spiffe://" + td + "/x")));

  std::map<std::string, Seed> seeds;
  seeds["tcp_sidecar"].all(*tcp);
  seeds["sds_sidecar"].all(*sds, true);
  seeds["default_deny"].all(*deny);
  seeds["http_sidecar_nack"].all(*http);
  seeds["proxyless_nack"].all(*proxyless);
  seeds["placeholder_pem_nack"].all(*placeholders);
  seeds["tcp_cds_only"].response(responseFor(*tcp, kClusterType));
  seeds["tcp_lds_first"].response(responseFor(*tcp, kListenerType)).all(*tcp);
  seeds["sds_secrets_first"].response(responseFor(*sds, kSecretType)).all(*sds);
  seeds["sds_rotation"].all(*sds, true).response(responseFor(*rotated, kSecretType, "2"));
  seeds["removals"]
      .all(*tcp)
      .response(removal(kListenerType, "db:127.0.0.1:9191"))
      .response(removal(kEndpointType, db))
      .response(removal(kClusterType, db));
  seeds["good_then_bad"].all(*tcp).response(responseFor(*placeholders, kClusterType, "2"));
  seeds["garbage_frame"].frame("\x0a\xff\xff\xff\x01garbage").all(*tcp);
  seeds["truncated"].frame(responseFor(*tcp, kClusterType).SerializeAsString().substr(0, 300));
  DeltaResponse unknown;
  unknown.set_type_url("type.googleapis.com/google.protobuf.Empty");
  seeds["unknown_type"].response(unknown);
  DeltaResponse routes = responseFor(*http, kRouteType);
  seeds["routes_ignored"].response(routes);
  seeds["empty"].frame("");

  for (const auto& [name, seed] : seeds) {
    std::ofstream(dir / name, std::ios::binary) << seed.bytes();
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}
