// Arbitrary bytes as the input of a trellis-mux/1 session (src/proxy/data/mux_frame.h), parsed
// frame by frame as the session does: never crash, never consume past the input or less than a
// header, and every accepted frame re-encodes to exactly the bytes it was parsed from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/data/mux_frame.h"

using namespace trellis::proxy::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (;;) {
    MuxFrame f;
    size_t consumed = 0;
    std::string error;
    const MuxParse p = parseMuxFrame(rest, f, consumed, error);
    if (p == MuxParse::kNeedMore) {
      if (consumed != 0) std::abort();
      return 0;
    }
    if (p == MuxParse::kError) {
      if (error.empty() || consumed != 0) std::abort();
      return 0;
    }
    if (consumed < kMuxHeaderBytes || consumed > rest.size()) std::abort();
    if (f.payload.size() > kMuxMaxPayload) std::abort();
    std::string again;
    if (f.type == MuxType::kData) {
      again.resize(kMuxHeaderBytes);
      encodeMuxHeader(again.data(), f.type, f.stream, static_cast<uint32_t>(f.payload.size()));
      again += f.payload;
    } else {
      appendMuxControl(again, f.type, f.stream, f.increment);
    }
    if (again != rest.substr(0, consumed)) std::abort();
    rest.remove_prefix(consumed);
  }
}
