// LogFileSource: lines split across read chunks, a last line without newline, empty lines,
// over-long lines skipped and counted.
#include "collector/log_file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace aurelay::collector {
namespace {

class LogFileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/aurelay-log-file-source-XXXXXX";
    int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = name;
  }
  void TearDown() override { std::remove(path_.c_str()); }

  void write_file(const std::string& content) {
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }

  // Reads every line, in batches of at most `per_batch` records, counting into `stats` when given.
  std::vector<std::string> read_all(ReceiveStats* stats = nullptr, std::size_t per_batch = 1000) {
    Result<std::unique_ptr<LogFileSource>> opened = LogFileSource::open(path_, stats);
    EXPECT_TRUE(opened.ok()) << opened.error();
    std::vector<std::string> lines;
    if (!opened) return lines;
    std::unique_ptr<LogFileSource> source = std::move(opened).value();
    correlate::RecordBatch batch;
    for (int guard = 0; guard < 100000; ++guard) {
      batch.clear();
      SourceStatus status = source->read(batch, per_batch, 0);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        EXPECT_EQ(batch.type(i), correlate::RecordBatch::kLogLine);
        lines.emplace_back(batch.text(i));
      }
      if (status == SourceStatus::end || status == SourceStatus::failed) break;
    }
    return lines;
  }

  std::string path_;
};

TEST_F(LogFileSourceTest, LinesAcrossReadChunksArriveWhole) {
  // Lines of varying length totalling well over the 1 MiB read chunk, so several end in the
  // middle of a chunk and their tails move to the front of the buffer.
  std::vector<std::string> expected;
  std::string content;
  for (int i = 0; content.size() < 3 * (1 << 20) + 12345; ++i) {
    std::string line = "type=SYSCALL msg=audit(1.002:" + std::to_string(i) + "): ";
    line.append(static_cast<std::size_t>(i * 37 % 900), static_cast<char>('a' + i % 26));
    expected.push_back(line);
    content += line + "\n";
  }
  write_file(content);
  ReceiveStats stats;
  EXPECT_EQ(read_all(&stats, 333), expected);
  EXPECT_EQ(stats.records_received.load(), expected.size());
  EXPECT_EQ(stats.bytes_received.load(), content.size());
  EXPECT_EQ(stats.records_truncated.load(), 0u);
}

TEST_F(LogFileSourceTest, LastLineWithoutNewlineAndEmptyLines) {
  write_file("first\n\n\nsecond\nlast without newline");
  EXPECT_EQ(read_all(), (std::vector<std::string>{"first", "second", "last without newline"}));
}

TEST_F(LogFileSourceTest, OverLongLinesAreSkippedAndCounted) {
  const std::string long_line(LogFileSource::kMaxLine + 10, 'x');
  write_file("before\n" + long_line + "\nafter\n" + long_line);
  ReceiveStats stats;
  EXPECT_EQ(read_all(&stats), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(stats.records_truncated.load(), 2u);
}

TEST_F(LogFileSourceTest, EmptyFileEnds) {
  write_file("");
  EXPECT_TRUE(read_all().empty());
}

}  // namespace
}  // namespace aurelay::collector
