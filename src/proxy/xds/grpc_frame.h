#pragma once
// gRPC's length-prefixed messages on an HTTP/2 stream: a 5-byte prefix (compressed flag, then the
// length as a big-endian uint32) and the serialized message. The reader reassembles messages from
// DATA chunks cut anywhere, and refuses a message longer than its bound as soon as the prefix
// announces it, before buffering any of it. Pure: no I/O; fuzzed by fuzz/proxy_grpc_frames.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trellis::proxy::xds {

inline constexpr size_t kGrpcPrefixBytes = 5;

// The prefix and `message`, uncompressed.
std::string encodeGrpcFrame(std::string_view message);

class GrpcFrameReader {
 public:
  explicit GrpcFrameReader(size_t max_message_bytes) : max_(max_message_bytes) {}

  // Consumes all of `bytes`, appending each message it completes to `out`. Fails with kTooLarge
  // (a message over the bound) or kInvalidArgument (a compressed message: no grpc-encoding is ever
  // negotiated; or an unknown flag). Once failed, every later call fails the same way.
  Status feed(std::string_view bytes, std::vector<std::string>& out);

  // Bytes of an unfinished message held (its prefix included); 0 between messages.
  size_t pending() const { return prefix_len_ + (in_body_ ? kGrpcPrefixBytes + body_.size() : 0); }
  // The announced length of the unfinished message, 0 if its prefix has not arrived.
  size_t expected() const { return in_body_ ? need_ : 0; }

 private:
  const size_t max_;
  uint8_t prefix_[kGrpcPrefixBytes] = {};
  size_t prefix_len_ = 0;
  bool in_body_ = false;
  size_t need_ = 0;
  std::string body_;
  Status error_;
};

}  // namespace trellis::proxy::xds
