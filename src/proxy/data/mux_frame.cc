#include "proxy/data/mux_frame.h"

namespace trellis::proxy::data {
namespace {

void put32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint32_t get32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

}  // namespace

void encodeMuxHeader(char* out, MuxType type, uint32_t stream, uint32_t payload_length) {
  put32(out, stream);
  put32(out + 4, payload_length);  // high byte overwritten by the type
  out[4] = static_cast<char>(type);
}

void appendMuxControl(std::string& out, MuxType type, uint32_t stream, uint32_t increment) {
  char frame[kMuxHeaderBytes + 4];
  const uint32_t length = type == MuxType::kWindow ? 4 : 0;
  encodeMuxHeader(frame, type, stream, length);
  if (length != 0) put32(frame + kMuxHeaderBytes, increment);
  out.append(frame, kMuxHeaderBytes + length);
}

MuxParse parseMuxFrame(std::string_view bytes, MuxFrame& frame, size_t& consumed,
                       std::string& error) {
  consumed = 0;
  if (bytes.size() < kMuxHeaderBytes) return MuxParse::kNeedMore;
  const uint32_t stream = get32(bytes.data());
  const uint8_t type = static_cast<uint8_t>(bytes[4]);
  const uint32_t length = get32(bytes.data() + 4) & 0xFFFFFFu;
  auto fail = [&](const char* why) {
    error = why;
    return MuxParse::kError;
  };
  if (type > static_cast<uint8_t>(MuxType::kGoAway)) return fail("mux: unknown frame type");
  const auto t = static_cast<MuxType>(type);
  switch (t) {
    case MuxType::kData:
      if (length == 0 || length > kMuxMaxPayload) return fail("mux: DATA length out of range");
      break;
    case MuxType::kWindow:
      if (length != 4) return fail("mux: WINDOW payload must be 4 bytes");
      break;
    default:
      if (length != 0) return fail("mux: control frame with a payload");
  }
  if ((t == MuxType::kGoAway) != (stream == 0)) return fail("mux: bad stream id for frame type");
  if (bytes.size() < kMuxHeaderBytes + length) return MuxParse::kNeedMore;
  frame.type = t;
  frame.stream = stream;
  frame.payload = bytes.substr(kMuxHeaderBytes, length);
  frame.increment = 0;
  if (t == MuxType::kWindow) {
    frame.increment = get32(bytes.data() + kMuxHeaderBytes);
    if (frame.increment == 0 || frame.increment > 0x7FFFFFFFu) {
      return fail("mux: WINDOW increment out of range");
    }
  }
  consumed = kMuxHeaderBytes + length;
  return MuxParse::kFrame;
}

}  // namespace trellis::proxy::data
