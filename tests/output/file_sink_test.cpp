// The file and stdout sink: documents as lines, audisp-json's prepend/postpend framing, reopening
// after logrotate moved the file, and clear errors.
#include "output/file/file_sink.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace aurelay::output {
namespace {

using testing::read_file;
using testing::run_command;
using testing::TempDir;

DocumentBatch batch_of(std::initializer_list<std::string_view> documents) {
  DocumentBatch batch;
  for (std::string_view document : documents) {
    batch.buffer().append(document);
    batch.end_document(1700000000000);
  }
  return batch;
}

TEST(FileSink, WritesOneDocumentPerLineAndAppends) {
  TempDir dir;
  auto opened = FileSink::open({.path = (dir / "out.json").string()});
  ASSERT_TRUE(opened) << opened.error();
  auto sink = std::move(opened).value();
  EXPECT_EQ(sink->write(batch_of({R"({"a":1})", R"({"b":2})"})), SinkStatus::ok);
  EXPECT_EQ(sink->write(batch_of({R"({"c":3})"})), SinkStatus::ok);
  EXPECT_TRUE(sink->flush(1000));
  EXPECT_EQ(read_file(dir / "out.json"), "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  EXPECT_EQ(value_of(sink->stats().documents_delivered), 3u);
}

TEST(FileSink, PrependAndPostpendFrameEachDocument) {
  TempDir dir;
  auto opened = FileSink::open(
      {.path = (dir / "out.json").string(), .prepend_msg = "<14>", .postpend_msg = " END"});
  ASSERT_TRUE(opened) << opened.error();
  auto sink = std::move(opened).value();
  EXPECT_EQ(sink->write(batch_of({"{}", "[]"})), SinkStatus::ok);
  EXPECT_EQ(read_file(dir / "out.json"), "<14>{} END\n<14>[] END\n");
}

TEST(FileSink, ReopenFollowsLogrotate) {
  TempDir dir;
  auto opened = FileSink::open({.path = (dir / "out.json").string()});
  ASSERT_TRUE(opened) << opened.error();
  auto sink = std::move(opened).value();
  EXPECT_EQ(sink->write(batch_of({"{\"before\":1}"})), SinkStatus::ok);
  std::filesystem::rename(dir / "out.json", dir / "out.json.1");
  EXPECT_EQ(sink->write(batch_of({"{\"still-old\":1}"})), SinkStatus::ok);
  sink->reopen();
  EXPECT_EQ(sink->write(batch_of({"{\"after\":1}"})), SinkStatus::ok);
  EXPECT_EQ(read_file(dir / "out.json.1"), "{\"before\":1}\n{\"still-old\":1}\n");
  EXPECT_EQ(read_file(dir / "out.json"), "{\"after\":1}\n");
  EXPECT_EQ(value_of(sink->stats().output_reopens), 1u);
}

TEST(FileSink, ReopenFailureKeepsTheOldFile) {
  TempDir dir;
  std::filesystem::create_directory(dir / "logs");
  auto opened = FileSink::open({.path = (dir / "logs" / "out.json").string()});
  ASSERT_TRUE(opened) << opened.error();
  auto sink = std::move(opened).value();
  std::filesystem::rename(dir / "logs", dir / "moved");
  sink->reopen();  // the directory is gone: keep writing where we were
  EXPECT_NE(sink->last_error().find("cannot open output"), std::string::npos);
  EXPECT_EQ(sink->write(batch_of({"{}"})), SinkStatus::ok);
  EXPECT_EQ(read_file(dir / "moved" / "out.json"), "{}\n");
}

TEST(FileSink, UnwritablePathIsAClearError) {
  auto opened = FileSink::open({.path = "/nonexistent-dir/out.json"});
  EXPECT_FALSE(opened);
  EXPECT_NE(opened.error().find("/nonexistent-dir/out.json"), std::string::npos) << opened.error();
}

TEST(FileSink, FullDeviceFailsTheWriteWithTheReason) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto opened = FileSink::open({.path = "/dev/full"});
  ASSERT_TRUE(opened) << opened.error();
  auto sink = std::move(opened).value();
  EXPECT_EQ(sink->write(batch_of({"{}"})), SinkStatus::failed);
  EXPECT_NE(sink->last_error().find("No space left"), std::string::npos) << sink->last_error();
  EXPECT_EQ(value_of(sink->stats().output_write_errors), 1u);
}

TEST(FileSink, BatchThatFillsTheDiskHalfWayIsTakenBackWhole) {
  // A 64 KiB tmpfs (root only): the second batch does not fit and fails part-written; the file
  // must hold exactly the first batch, so writing the second again later duplicates nothing.
  TempDir dir;
  const std::string mount_point = (dir.path() / "small").string();
  std::filesystem::create_directory(mount_point);
  if (geteuid() != 0 ||
      run_command({"mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount_point}).exit_code != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here";
  struct Unmount {
    std::string path;
    ~Unmount() { run_command({"umount", path}); }
  } unmount{mount_point};
  auto opened = FileSink::open({.path = mount_point + "/out.json"});
  ASSERT_TRUE(opened) << opened.error();
  auto sink = std::move(opened).value();
  const std::string small(std::size_t{20} * 1024, 'a'), big(std::size_t{80} * 1024, 'b');
  const std::string first = "{\"a\":\"" + small + "\"}", second = "{\"b\":\"" + big + "\"}";
  ASSERT_EQ(sink->write(batch_of({first})), SinkStatus::ok);
  EXPECT_EQ(sink->write(batch_of({second})), SinkStatus::failed);
  EXPECT_EQ(read_file(mount_point + "/out.json"), first + "\n");
  EXPECT_EQ(value_of(sink->stats().documents_delivered), 1u);
}

}  // namespace
}  // namespace aurelay::output
