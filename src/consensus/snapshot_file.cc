#include "consensus/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace trellis::consensus {
namespace {

constexpr std::string_view kMagic = "TRLSNAP1";
constexpr size_t kHeaderSize = 24;
constexpr size_t kTrailerSize = 4;

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = makeCrcTable();

void putU64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
}
uint64_t getU64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

Status sysError(std::string_view what, const std::string& path) {
  return internalError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Status writeAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return sysError("write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::ok();
}

Status fsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return sysError("open", path);
  int rc = ::fsync(fd);
  Status st = rc == 0 ? Status::ok() : sysError("fsync", path);
  ::close(fd);
  return st;
}

}  // namespace

uint32_t crc32(uint32_t crc, std::string_view bytes) {
  crc = ~crc;
  for (unsigned char b : bytes) crc = kCrcTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

Status writeSnapshotFile(const std::string& dir, uint64_t index, std::string_view data) {
  const std::string tmp = dir + "/snapshot.tmp";
  const std::string final_path = dir + "/snapshot";
  char header[kHeaderSize];
  std::memcpy(header, kMagic.data(), 8);
  putU64(header + 8, index);
  putU64(header + 16, data.size());
  uint32_t crc = crc32(crc32(0, std::string_view(header, kHeaderSize)), data);
  char trailer[kTrailerSize] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                                static_cast<char>(crc >> 8), static_cast<char>(crc)};

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return sysError("open", tmp);
  Status st = writeAll(fd, header, kHeaderSize, tmp);
  if (st) st = writeAll(fd, data.data(), data.size(), tmp);
  if (st) st = writeAll(fd, trailer, kTrailerSize, tmp);
  if (st && ::fsync(fd) != 0) st = sysError("fsync", tmp);
  if (::close(fd) != 0 && st) st = sysError("close", tmp);
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return sysError("rename", tmp);
  // The rename is durable only once the directory entry is.
  return fsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Result<std::optional<SnapshotFile>> readSnapshotFile(const std::string& dir) {
  const std::string path = dir + "/snapshot";
  ::unlink((dir + "/snapshot.tmp").c_str());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<SnapshotFile>();
    return sysError("open", path);
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      Status st = sysError("read", path);
      ::close(fd);
      return st;
    }
    if (r == 0) break;
    bytes.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);

  if (bytes.size() < kHeaderSize + kTrailerSize || std::string_view(bytes).substr(0, 8) != kMagic) {
    return internalError("snapshot " + path + " is damaged: bad header");
  }
  uint64_t index = getU64(bytes.data() + 8);
  uint64_t length = getU64(bytes.data() + 16);
  if (length != bytes.size() - kHeaderSize - kTrailerSize) {
    return internalError("snapshot " + path + " is damaged: length mismatch");
  }
  size_t body = kHeaderSize + length;
  uint32_t want = 0;
  for (size_t i = 0; i < kTrailerSize; ++i)
    want = (want << 8) | static_cast<uint8_t>(bytes[body + i]);
  if (crc32(0, std::string_view(bytes.data(), body)) != want) {
    return internalError("snapshot " + path + " is damaged: checksum mismatch");
  }
  bytes.resize(body);
  bytes.erase(0, kHeaderSize);
  return std::optional<SnapshotFile>(SnapshotFile{index, std::move(bytes)});
}

}  // namespace trellis::consensus
