// The restart gap's serial file: the mark's format, the estimate's rules (another boot, a serial
// that went back), and the file across two runs (read, rewritten in place, a malformed one).
#include "collector/restart_gap.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "test_support.h"

namespace aurelay::collector {
namespace {

using aurelay::testing::read_file;
using aurelay::testing::TempDir;
using aurelay::testing::write_file;

const std::string kBoot = "0f6a4c1e-9b7d-4e2a-8c3f-5d6e7f8a9b0c";

TEST(SerialMark, FormatsFixedWidthAndParsesBack) {
  const std::string text = format_serial_mark({kBoot, 42});
  EXPECT_EQ(text, kBoot + " 00000000000000000042\n");
  EXPECT_EQ(format_serial_mark({kBoot, 18446744073709551615u}).size(), text.size());
  const std::optional<SerialMark> mark = parse_serial_mark(text);
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->boot_id, kBoot);
  EXPECT_EQ(mark->serial, 42u);
  EXPECT_FALSE(parse_serial_mark("").has_value());
  EXPECT_FALSE(parse_serial_mark(kBoot).has_value());
  EXPECT_FALSE(parse_serial_mark(kBoot + " 12x\n").has_value());
  EXPECT_FALSE(parse_serial_mark(" 12\n").has_value());
}

TEST(SkippedSerials, CountsOnlyWithinOneBootAndForward) {
  EXPECT_EQ(skipped_serials({kBoot, 100}, kBoot, 101), 0u);
  EXPECT_EQ(skipped_serials({kBoot, 100}, kBoot, 2484), 2383u);
  EXPECT_FALSE(skipped_serials({kBoot, 100}, "another-boot", 2484).has_value());
  EXPECT_FALSE(skipped_serials({kBoot, 100}, kBoot, 100).has_value());  // went back or the same
  EXPECT_FALSE(skipped_serials({kBoot, 100}, kBoot, 7).has_value());
  EXPECT_FALSE(skipped_serials({kBoot, 100}, "", 2484).has_value());
}

TEST(SerialFile, AFirstRunHasNoPreviousThenTheNextRunReadsTheLastSaved) {
  TempDir dir;
  const std::string path = dir / "last-serial";
  {
    Result<SerialFile> first = SerialFile::open(path, kBoot);
    ASSERT_TRUE(first) << first.error();
    EXPECT_FALSE(first->previous().has_value());
    EXPECT_EQ(first->previous_error(), "");
    ASSERT_TRUE(first->save(99999));
    ASSERT_TRUE(first->save(123));  // shorter: rewritten in place, no tail left
  }
  EXPECT_EQ(read_file(path), kBoot + " 00000000000000000123\n");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  Result<SerialFile> second = SerialFile::open(path, kBoot);
  ASSERT_TRUE(second) << second.error();
  ASSERT_TRUE(second->previous().has_value());
  EXPECT_EQ(second->previous()->serial, 123u);
  EXPECT_EQ(skipped_serials(*second->previous(), second->boot_id(), 130), 6u);
}

TEST(SerialFile, AMalformedFileIsSaidIgnoredAndReplacedAnUnwritablePathFails) {
  TempDir dir;
  write_file(dir / "last-serial", "garbage " + std::string(200, 'x') + "\n");
  Result<SerialFile> file = SerialFile::open(dir / "last-serial", kBoot);
  ASSERT_TRUE(file) << file.error();
  EXPECT_FALSE(file->previous().has_value());
  EXPECT_NE(file->previous_error().find("not a serial mark"), std::string::npos);
  ASSERT_TRUE(file->save(7));
  ASSERT_TRUE(file->save(8));
  EXPECT_EQ(read_file(dir / "last-serial"), kBoot + " 00000000000000000008\n");  // no old tail
  Result<SerialFile> missing_dir = SerialFile::open(dir / "no/such/dir/last-serial", kBoot);
  ASSERT_FALSE(missing_dir);
  EXPECT_NE(missing_dir.error().find("no/such/dir/last-serial"), std::string::npos);
}

TEST(SerialFile, BootIdIsThisHosts) { EXPECT_EQ(current_boot_id().size(), 36u); }

}  // namespace
}  // namespace aurelay::collector
