#include "output/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mozdef_test_server.h"

namespace aurelay::output {
namespace {

using aurelay::testing::TempDir;

std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string payload(int n) { return "record-" + std::to_string(n) + std::string(200, 'x'); }

SpoolConfig config_for(const TempDir& dir, std::uint64_t max_bytes = 1 << 20,
                       std::uint64_t segment_bytes = 2048) {
  SpoolConfig config;
  config.dir = (dir.path() / "spool").string();
  config.max_bytes = max_bytes;
  config.segment_max_bytes = segment_bytes;
  return config;
}

TEST(Spool, ReadsRecordsInAppendOrderAcrossSegmentsAndDeletesAckedSegments) {
  TempDir dir;
  Spool spool(config_for(dir));
  ASSERT_TRUE(spool.open().ok());
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(spool.append(static_cast<std::uint32_t>(i + 1), "h", payload(i)),
              SpoolAppendResult::appended);
  }
  EXPECT_GT(spool.counters().segments, 2u);
  EXPECT_EQ(spool.unread_items(), 30u * 31u / 2u);
  SpoolRecord record;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(spool.read_next(record)) << i;
    EXPECT_EQ(record.payload, "h" + payload(i));
    EXPECT_EQ(record.items, static_cast<std::uint32_t>(i + 1));
    spool.ack(record.segment_id);
  }
  EXPECT_FALSE(spool.read_next(record));
  EXPECT_TRUE(spool.empty());
  EXPECT_EQ(spool.counters().bytes, 0u);
  EXPECT_EQ(spool.counters().segments, 0u);
  EXPECT_TRUE(segment_files(dir.path() / "spool").empty());
}

TEST(Spool, NewRecordsAppendedWhileReadingAreReadToo) {
  TempDir dir;
  Spool spool(config_for(dir));
  ASSERT_TRUE(spool.open().ok());
  SpoolRecord record;
  ASSERT_EQ(spool.append(1, "", "a"), SpoolAppendResult::appended);
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.payload, "a");
  ASSERT_EQ(spool.append(1, "", "b"), SpoolAppendResult::appended);
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.payload, "b");
  EXPECT_FALSE(spool.read_next(record));
  EXPECT_EQ(spool.outstanding(), 2u);
}

TEST(Spool, ARestartReadsWhatWasNotAckedInOrder) {
  TempDir dir;
  {
    Spool spool(config_for(dir));
    ASSERT_TRUE(spool.open().ok());
    for (int i = 0; i < 20; ++i) spool.append(1, "", payload(i));
    SpoolRecord record;
    // Read 5, ack only the first segment's worth that is complete: here none acked.
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool.read_next(record));
  }
  Spool again(config_for(dir));
  ASSERT_TRUE(again.open().ok());
  EXPECT_EQ(again.unread_items(), 20u);
  SpoolRecord record;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(again.read_next(record)) << i;
    EXPECT_EQ(record.payload, payload(i));
    again.ack(record.segment_id);
  }
  EXPECT_FALSE(again.read_next(record));
  // New segments get ids after the old ones.
  again.append(1, "", "late");
  ASSERT_TRUE(again.read_next(record));
  EXPECT_EQ(record.payload, "late");
}

TEST(Spool, ATruncatedTailIsCountedAndSkipped) {
  TempDir dir;
  {
    Spool spool(config_for(dir, 1 << 20, 1 << 18));
    ASSERT_TRUE(spool.open().ok());
    for (int i = 0; i < 3; ++i) spool.append(1, "", payload(i));
  }
  auto files = segment_files(dir.path() / "spool");
  ASSERT_EQ(files.size(), 1u);
  auto size = std::filesystem::file_size(files[0]);
  std::filesystem::resize_file(files[0], size - 50);  // crash in the middle of record 3
  Spool spool(config_for(dir, 1 << 20, 1 << 18));
  ASSERT_TRUE(spool.open().ok());
  SpoolRecord record;
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.payload, payload(0));
  spool.ack(record.segment_id);
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.payload, payload(1));
  spool.ack(record.segment_id);
  EXPECT_FALSE(spool.read_next(record));
  EXPECT_EQ(spool.counters().corrupt_records, 1u);
  EXPECT_EQ(spool.counters().corrupt_bytes, 16 + payload(2).size() - 50);
  EXPECT_TRUE(spool.empty());
  EXPECT_TRUE(segment_files(dir.path() / "spool").empty());
}

TEST(Spool, ABadChecksumEndsItsSegmentButLaterSegmentsAreRead) {
  TempDir dir;
  {
    Spool spool(config_for(dir, 1 << 20, 1024));  // ~4 records per segment
    ASSERT_TRUE(spool.open().ok());
    for (int i = 0; i < 8; ++i) spool.append(1, "", payload(i));
  }
  auto files = segment_files(dir.path() / "spool");
  ASSERT_GE(files.size(), 2u);
  {
    std::fstream file(files[0], std::ios::in | std::ios::out | std::ios::binary);
    std::size_t second_record_payload = 16 + payload(0).size() + 16 + 3;
    file.seekp(static_cast<std::streamoff>(second_record_payload));
    file.put('!');
  }
  Spool spool(config_for(dir, 1 << 20, 1024));
  ASSERT_TRUE(spool.open().ok());
  std::vector<std::string> read;
  SpoolRecord record;
  while (spool.read_next(record)) {
    read.push_back(record.payload);
    spool.ack(record.segment_id);
  }
  EXPECT_EQ(spool.counters().corrupt_records, 1u);
  ASSERT_FALSE(read.empty());
  EXPECT_EQ(read.front(), payload(0));
  EXPECT_EQ(read.back(), payload(7));
  EXPECT_EQ(std::count(read.begin(), read.end(), payload(1)), 0);
}

TEST(Spool, FullWithDropNewestRefusesNewRecordsAndKeepsOldOnes) {
  TempDir dir;
  SpoolConfig config = config_for(dir, 8192, 2048);
  config.full_action = SpoolFullAction::drop_newest;
  Spool spool(config);
  ASSERT_TRUE(spool.open().ok());
  int appended = 0;
  int dropped = 0;
  for (int i = 0; i < 100; ++i) {
    auto result = spool.append(3, "", payload(i));
    if (result == SpoolAppendResult::appended) ++appended;
    if (result == SpoolAppendResult::dropped_newest) ++dropped;
  }
  EXPECT_GT(appended, 10);
  EXPECT_EQ(appended + dropped, 100);
  EXPECT_EQ(spool.counters().dropped_records, static_cast<std::uint64_t>(dropped));
  EXPECT_EQ(spool.counters().dropped_items, 3u * static_cast<std::uint64_t>(dropped));
  EXPECT_LE(spool.counters().bytes, 8192u);
  SpoolRecord record;
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.payload, payload(0));
}

TEST(Spool, FullWithDropOldestDropsWholeOldSegmentsAndKeepsNewOnes) {
  TempDir dir;
  SpoolConfig config = config_for(dir, 8192, 2048);
  config.full_action = SpoolFullAction::drop_oldest;
  Spool spool(config);
  ASSERT_TRUE(spool.open().ok());
  for (int i = 0; i < 100; ++i) {
    auto result = spool.append(2, "", payload(i));
    ASSERT_TRUE(result == SpoolAppendResult::appended ||
                result == SpoolAppendResult::appended_after_dropping_oldest);
  }
  EXPECT_LE(spool.counters().bytes, 8192u);
  std::vector<std::string> read;
  SpoolRecord record;
  while (spool.read_next(record)) read.push_back(record.payload);
  ASSERT_FALSE(read.empty());
  EXPECT_EQ(read.back(), payload(99));
  EXPECT_NE(read.front(), payload(0));
  EXPECT_EQ(spool.counters().dropped_records + read.size(), 100u);
  EXPECT_EQ(spool.counters().dropped_items, 2u * spool.counters().dropped_records);
}

TEST(Spool, FsyncAlwaysStillReadsBack) {
  TempDir dir;
  SpoolConfig config = config_for(dir);
  config.fsync = SpoolFsync::always;
  Spool spool(config);
  ASSERT_TRUE(spool.open().ok());
  spool.append(1, "x", "y");
  spool.sync();
  SpoolRecord record;
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.payload, "xy");
}

TEST(Spool, OpenFailsClearlyOnAnUnusableDirectory) {
  SpoolConfig config;
  config.dir = "/proc/aurelay-no-such-dir/spool";
  Spool spool(config);
  Status opened = spool.open();
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(opened.error().find("/proc/aurelay-no-such-dir/spool"), std::string::npos);
  EXPECT_EQ(spool.append(1, "", "a"), SpoolAppendResult::io_error);
}

}  // namespace
}  // namespace aurelay::output
