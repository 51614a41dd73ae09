// Arbitrary xDS responses into the proxy's Ingest: whatever arrives, it must accept or reject
// with a reason, never crash, and a rejection must leave the config it had.
//
// Input: up to kMaxFrames frames, each a 3-byte little-endian length and that many bytes parsed
// as a serialised DeltaDiscoveryResponse (unparseable frames are skipped); a length running past
// the end takes the rest of the input. proxy_xds_ingest_seed <dir> writes the seed corpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include "proxy/xds/ingest.h"

namespace {

constexpr int kMaxFrames = 16;
constexpr size_t kMaxInput = 512 * 1024;  // bounds PEM and regex work per input

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 in strings is logged, and common
    return true;
  }();
  (void)quiet;
  if (size > kMaxInput) return 0;
  trellis::proxy::xds::Ingest ingest;
  size_t pos = 0;
  for (int frame = 0; frame < kMaxFrames && pos < size; ++frame) {
    size_t len = 0;
    if (size - pos >= 3) {
      len = data[pos] | (data[pos + 1] << 8) | (static_cast<size_t>(data[pos + 2]) << 16);
      pos += 3;
    } else {
      len = size - pos;
    }
    len = std::min(len, size - pos);
    trellis::proxy::xds::Ingest::Response response;
    const bool parsed = response.ParseFromArray(data + pos, static_cast<int>(len));
    pos += len;
    if (!parsed) continue;

    const auto before = ingest.current();
    auto result = ingest.apply(response);
    if (result) {
      check(*result == ingest.current());
      check((*result)->generation == before->generation + 1);
    } else {
      check(ingest.current() == before);
      check(!result.status().message().empty());
    }
    // Walk what the client would use next.
    for (const auto& name : ingest.wantedAssignments()) check(!name.empty());
    (void)ingest.wantedSecrets();
    (void)ingest.resourceVersions(response.type_url());
    for (const auto& [name, cluster] : ingest.current()->clusters) check(name == cluster.name);
    for (const auto& [name, listener] : ingest.current()->listeners) {
      check(name == listener.name && listener.port != 0);
    }
  }
  return 0;
}
