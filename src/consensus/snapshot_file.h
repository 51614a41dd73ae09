#pragma once
// The newest FSM snapshot of an LmdbLog, kept as one file `<dir>/snapshot` beside the LMDB
// environment. It is replaced atomically (write `snapshot.tmp`, fsync, rename, fsync the
// directory), so a crash leaves either the old or the new snapshot, never a torn one. A CRC-32
// over header and data catches damage that happened after the write.
//
// Layout: "TRLSNAP1" | index (u64 BE) | length (u64 BE) | data | crc32 (u32 BE).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trellis::consensus {

struct SnapshotFile {
  uint64_t index = 0;
  std::string data;
};

// Durably replaces the snapshot in `dir`. Thread-compatible: one writer per directory.
Status writeSnapshotFile(const std::string& dir, uint64_t index, std::string_view data);

// Reads the snapshot in `dir`: nullopt when there is none yet; kInternal when it is damaged.
// Removes a leftover `snapshot.tmp` from an interrupted write.
Result<std::optional<SnapshotFile>> readSnapshotFile(const std::string& dir);

// CRC-32 (IEEE 802.3, as zlib), exposed for tests.
uint32_t crc32(uint32_t crc, std::string_view bytes);

}  // namespace trellis::consensus
