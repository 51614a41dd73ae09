#pragma once
// trellis-mux/1: the framing two Trellis sidecars use to carry many proxied TCP connections over
// one long-lived mTLS connection, negotiated by ALPN (a peer that does not select it, such as
// Envoy, gets one TLS connection per proxied connection as before). Pure: no I/O; fuzzed by
// fuzz/proxy_mux_frames.
//
// Every frame is an 8-byte header, then `length` payload bytes:
//   stream id (uint32, big-endian) | type (uint8) | length (uint24, big-endian)
// Types and payloads:
//   DATA    stream bytes, 1..kMuxMaxPayload
//   OPEN    empty. Client only; ids strictly increase, starting at 1. The server connects the
//           stream to its listener's cluster (the local app); the client may send DATA at once.
//   FIN     empty. The sender will send no more DATA on the stream (TCP half-close).
//   RESET   empty. The stream is aborted in both directions; nothing more is sent for it.
//   WINDOW  uint32 increment: the receiver delivered that many bytes onward, so the sender may
//           send that many more. Each direction of a stream starts with kMuxInitialWindow.
//   GOAWAY  stream id 0, empty: the sender accepts (server) or opens (client) no new streams;
//           open ones finish normally.
// A stream ends when FIN went both ways (and the data before them was delivered) or on RESET.
// Frames for an unknown stream id are ignored (they may cross a RESET); anything malformed is a
// protocol error that closes the whole connection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace trellis::proxy::data {

inline constexpr std::string_view kMuxAlpn = "trellis-mux/1";
inline constexpr size_t kMuxHeaderBytes = 8;
inline constexpr size_t kMuxMaxPayload = 64 * 1024;  // one recv/send on each side for bulk data
inline constexpr uint32_t kMuxInitialWindow = 256 * 1024;

enum class MuxType : uint8_t {
  kData = 0,
  kOpen = 1,
  kFin = 2,
  kReset = 3,
  kWindow = 4,
  kGoAway = 5
};

struct MuxFrame {
  MuxType type = MuxType::kData;
  uint32_t stream = 0;
  std::string_view payload;  // points into the parsed bytes
  uint32_t increment = 0;    // WINDOW
};

// Writes a header for `payload_length` bytes at `out` (kMuxHeaderBytes of room).
void encodeMuxHeader(char* out, MuxType type, uint32_t stream, uint32_t payload_length);
// A whole control frame (OPEN, FIN, RESET, WINDOW, GOAWAY) appended to `out`.
void appendMuxControl(std::string& out, MuxType type, uint32_t stream, uint32_t increment = 0);

enum class MuxParse { kFrame, kNeedMore, kError };

// Parses the frame at the start of `bytes`. kFrame: `frame` is set and `consumed` is its size;
// kNeedMore: the frame is incomplete (nothing consumed); kError: `error` says why (a type outside
// the list, DATA empty or over kMuxMaxPayload, a control frame with the wrong payload size or a
// stream id that cannot be, a zero WINDOW increment).
MuxParse parseMuxFrame(std::string_view bytes, MuxFrame& frame, size_t& consumed,
                       std::string& error);

}  // namespace trellis::proxy::data
