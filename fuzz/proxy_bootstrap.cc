// Arbitrary bytes as the bootstrap JSON trellis-proxy starts from: parse or refuse, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/xds/bootstrap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = trellis::proxy::xds::parseBootstrap(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (info) {
    if (info->node_id.empty()) std::abort();
    if (info->agent_unix_path.empty() && info->agent_port == 0) std::abort();
    (void)info->agentTarget();
  } else if (info.status().message().empty()) {
    std::abort();
  }
  return 0;
}
