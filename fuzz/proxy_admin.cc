// The proxy admin listener's request-head parsing and routing: any bytes a local client sends
// must yield a well-formed HTTP response, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/data/admin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using trellis::proxy::data::AdminHandlers;
  using trellis::proxy::data::AdminResponse;
  static const AdminHandlers handlers = [] {
    AdminHandlers h;
    h["/ready"] = [] { return AdminResponse{200, "text/plain", "LIVE\n"}; };
    h["/stats"] = [] { return AdminResponse{200, "text/plain", "x 1\n"}; };
    return h;
  }();
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  (void)trellis::proxy::data::parseAdminRequest(head);
  const std::string out = trellis::proxy::data::respond(handlers, head);
  if (out.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  return 0;
}
