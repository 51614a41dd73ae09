// Just enough HTTP/1.1 client for the load generator: an incremental response parser that copes
// with Content-Length and chunked bodies, and blocking socket helpers used only outside the
// measured path (setup, prefill, the fan-out trigger). Header-only so that the load generator
// builds with a single compiler command.
#pragma once

#include "common/base64.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace trellis::bench {

struct Response {
  int status = 0;
  int64_t consul_index = -1;  // X-Consul-Index, when present
  std::string body;           // only with ResponseParser::keepBody (raw, chunk framing included)
};

class ResponseParser {
 public:
  void append(const char* data, size_t n) { buf_.append(data, n); }
  bool empty() const { return buf_.empty(); }
  // Off by default: the throughput modes only need the status, and the copy is not free.
  void keepBody(bool keep) { keep_body_ = keep; }

  // 1 when a whole response is buffered (it is then consumed into `out`), 0 when more bytes are
  // needed, -1 when the bytes cannot be an HTTP/1.1 response.
  int next(Response& out) {
    if (header_end_ == std::string::npos) {
      size_t from = scanned_ > 3 ? scanned_ - 3 : 0;
      size_t pos = buf_.find("\r\n\r\n", from);
      if (pos == std::string::npos) {
        scanned_ = buf_.size();
        return buf_.size() > kMaxHeader ? -1 : 0;
      }
      header_end_ = pos + 4;
      if (!parseHeader(std::string_view(buf_).substr(0, pos))) return -1;
    }
    size_t end = 0;
    if (chunked_) {
      int r = chunkedEnd(end);
      if (r <= 0) return r;
    } else {
      if (buf_.size() < header_end_ + content_length_) return 0;
      end = header_end_ + content_length_;
    }
    out = current_;
    if (keep_body_) out.body.assign(buf_, header_end_, end - header_end_);
    buf_.erase(0, end);
    reset();
    return 1;
  }

 private:
  static constexpr size_t kMaxHeader = 64 * 1024;

  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
      if (x != b[i]) return false;
    }
    return true;
  }

  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  bool parseHeader(std::string_view head) {
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") return false;
    current_.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    bool has_length = false;
    size_t line = head.find("\r\n");
    while (line != std::string_view::npos) {
      size_t start = line + 2;
      size_t stop = head.find("\r\n", start);
      std::string_view l = head.substr(
          start, stop == std::string_view::npos ? std::string_view::npos : stop - start);
      size_t colon = l.find(':');
      if (colon != std::string_view::npos) {
        std::string_view name = l.substr(0, colon);
        std::string value(trim(l.substr(colon + 1)));
        if (iequals(name, "content-length")) {
          content_length_ = std::strtoull(value.c_str(), nullptr, 10);
          has_length = true;
        } else if (iequals(name, "transfer-encoding")) {
          chunked_ = value.find("chunked") != std::string::npos;
        } else if (iequals(name, "x-consul-index")) {
          current_.consul_index = std::strtoll(value.c_str(), nullptr, 10);
        }
      }
      line = stop;
    }
    bool no_body = current_.status == 204 || current_.status == 304 || current_.status < 200;
    if (no_body) content_length_ = 0;
    return chunked_ || has_length || no_body;
  }

  int chunkedEnd(size_t& end) {
    size_t pos = header_end_;
    for (;;) {
      size_t eol = buf_.find("\r\n", pos);
      if (eol == std::string::npos) return 0;
      char* stop = nullptr;
      unsigned long long size = std::strtoull(buf_.c_str() + pos, &stop, 16);
      if (stop == buf_.c_str() + pos) return -1;
      if (size == 0) {
        // No trailers from the servers we measure: the terminator is the next empty line.
        if (buf_.size() < eol + 4) return 0;
        end = eol + 4;
        return 1;
      }
      pos = eol + 2 + size + 2;
      if (buf_.size() < pos) return 0;
    }
  }

  void reset() {
    header_end_ = std::string::npos;
    scanned_ = 0;
    content_length_ = 0;
    chunked_ = false;
    current_ = Response{};
  }

  std::string buf_;
  size_t header_end_ = std::string::npos;
  size_t scanned_ = 0;
  size_t content_length_ = 0;
  bool chunked_ = false;
  bool keep_body_ = false;
  Response current_;
};

// A TCP connection to 127.0.0.1:port with Nagle off; -1 on failure.
inline int connectLoopback(int port, bool nonblocking) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 &&
      !(nonblocking && errno == EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One request/response on a blocking socket; false on I/O or parse failure.
inline bool roundTrip(int fd, ResponseParser& parser, std::string_view request, Response& out) {
  if (!sendAll(fd, request)) return false;
  char buf[16384];
  for (;;) {
    int r = parser.next(out);
    if (r == 1) return true;
    if (r < 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    parser.append(buf, static_cast<size_t>(n));
  }
}

// etcd's JSON gateway takes base64 keys and values; the project's encoder is reused.
inline std::string base64(std::string_view in) { return trellis::base64Encode(in); }

}  // namespace trellis::bench
