#include "proxy/xds/grpc_frame.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace trellis::proxy::xds {

std::string encodeGrpcFrame(std::string_view message) {
  std::string out(kGrpcPrefixBytes, '\0');
  const auto n = static_cast<uint32_t>(message.size());
  out[1] = static_cast<char>(n >> 24);
  out[2] = static_cast<char>(n >> 16);
  out[3] = static_cast<char>(n >> 8);
  out[4] = static_cast<char>(n);
  out.append(message);
  return out;
}

Status GrpcFrameReader::feed(std::string_view bytes, std::vector<std::string>& out) {
  if (!error_) return error_;
  while (!bytes.empty()) {
    if (!in_body_) {
      const size_t n = std::min(kGrpcPrefixBytes - prefix_len_, bytes.size());
      std::memcpy(prefix_ + prefix_len_, bytes.data(), n);
      prefix_len_ += n;
      bytes.remove_prefix(n);
      if (prefix_len_ < kGrpcPrefixBytes) break;
      if (prefix_[0] != 0) {
        error_ = invalidArgument(prefix_[0] == 1
                                     ? "compressed gRPC message, but no encoding was negotiated"
                                     : fmt::format("invalid gRPC message flag {}", prefix_[0]));
        return error_;
      }
      const size_t length = (size_t{prefix_[1]} << 24) | (size_t{prefix_[2]} << 16) |
                            (size_t{prefix_[3]} << 8) | size_t{prefix_[4]};
      if (length > max_) {
        error_ = Status(Code::kTooLarge, fmt::format("gRPC message of {} bytes exceeds the limit "
                                                     "of {} bytes",
                                                     length, max_));
        return error_;
      }
      prefix_len_ = 0;
      in_body_ = true;
      need_ = length;
    }
    const size_t n = std::min(need_ - body_.size(), bytes.size());
    body_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (body_.size() == need_) {
      out.push_back(std::move(body_));
      body_ = std::string();
      in_body_ = false;
      need_ = 0;
    }
  }
  return Status::ok();
}

}  // namespace trellis::proxy::xds
