#include "consensus/snapshot_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "consensus/lmdb_log_testing.h"

namespace trellis::consensus {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeRaw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(SnapshotFileTest, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(crc32(0, "1234"), "56789"), 0xCBF43926u);
}

TEST(SnapshotFileTest, MissingSnapshotIsNotAnError) {
  testing::TempDir dir;
  auto got = readSnapshotFile(dir.path());
  ASSERT_TRUE(got.isOk()) << got.status().message();
  EXPECT_FALSE(got->has_value());
}

TEST(SnapshotFileTest, RoundTripsAndReplacesTheOldSnapshot) {
  testing::TempDir dir;
  ASSERT_TRUE(writeSnapshotFile(dir.path(), 7, "first"));
  std::string binary("a\0b\nc", 5);
  ASSERT_TRUE(writeSnapshotFile(dir.path(), 42, binary));
  auto got = readSnapshotFile(dir.path());
  ASSERT_TRUE(got.isOk()) << got.status().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->index, 42u);
  EXPECT_EQ((*got)->data, binary);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/snapshot.tmp"));
}

TEST(SnapshotFileTest, EmptySnapshotRoundTrips) {
  testing::TempDir dir;
  ASSERT_TRUE(writeSnapshotFile(dir.path(), 1, ""));
  auto got = readSnapshotFile(dir.path());
  ASSERT_TRUE(got.isOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->index, 1u);
  EXPECT_EQ((*got)->data, "");
}

TEST(SnapshotFileTest, LeftoverTempFileFromACrashIsIgnoredAndRemoved) {
  testing::TempDir dir;
  ASSERT_TRUE(writeSnapshotFile(dir.path(), 3, "good"));
  writeRaw(dir.path() + "/snapshot.tmp", "TRLSNAP1 half written");
  auto got = readSnapshotFile(dir.path());
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ((*got)->data, "good");
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/snapshot.tmp"));
}

TEST(SnapshotFileTest, FlippedByteIsDetected) {
  testing::TempDir dir;
  ASSERT_TRUE(writeSnapshotFile(dir.path(), 9, "some state bytes"));
  std::string path = dir.path() + "/snapshot";
  std::string bytes = readAll(path);
  bytes[30] ^= 0x01;
  writeRaw(path, bytes);
  auto got = readSnapshotFile(dir.path());
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), Code::kInternal);
  EXPECT_NE(got.status().message().find("checksum"), std::string::npos);
}

TEST(SnapshotFileTest, TruncatedOrForeignFileIsDetected) {
  testing::TempDir dir;
  ASSERT_TRUE(writeSnapshotFile(dir.path(), 9, "some state bytes"));
  std::string path = dir.path() + "/snapshot";
  std::string bytes = readAll(path);
  writeRaw(path, bytes.substr(0, bytes.size() - 3));
  EXPECT_FALSE(readSnapshotFile(dir.path()).isOk());
  writeRaw(path, "not a snapshot at all, definitely not");
  EXPECT_FALSE(readSnapshotFile(dir.path()).isOk());
  writeRaw(path, "");
  EXPECT_FALSE(readSnapshotFile(dir.path()).isOk());
}

}  // namespace
}  // namespace trellis::consensus
