// Arbitrary bytes as the DATA of trellis-proxy's ADS stream, cut into arbitrary chunks, through
// the gRPC message reassembly: never crash, never hand out a message over the bound, and agree
// with a single-chunk read of the same bytes. Input: [bound/16][chunk seed][stream bytes...].
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/xds/grpc_frame.h"

using trellis::proxy::xds::encodeGrpcFrame;
using trellis::proxy::xds::GrpcFrameReader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t bound = size_t{data[0]} * 16;
  uint32_t seed = data[1] | 1u;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);

  GrpcFrameReader whole(bound);
  std::vector<std::string> expected;
  const trellis::Status whole_status = whole.feed(wire, expected);

  GrpcFrameReader chunked(bound);
  std::vector<std::string> got;
  trellis::Status status;
  size_t fed = 0;
  while (fed < wire.size() && status) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(wire.size() - fed, (seed >> 16) % 64);
    status = chunked.feed(wire.substr(fed, n), got);
    fed += n;
  }
  if (status.code() != whole_status.code() || got != expected) std::abort();
  if (!status && status.message().empty()) std::abort();

  std::string reencoded;
  for (const auto& m : got) {
    if (m.size() > bound) std::abort();
    reencoded += encodeGrpcFrame(m);
  }
  if (wire.substr(0, reencoded.size()) != reencoded) std::abort();
  if (status && reencoded.size() + chunked.pending() != wire.size()) std::abort();
  return 0;
}
