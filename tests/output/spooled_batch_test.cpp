// The spool record format both spooling outputs share and what a spool write reports.
#include "output/spooled_batch.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "test_support.h"

namespace aurelay::output {
namespace {

using aurelay::testing::CapturedLog;
using aurelay::testing::count_occurrences;
using aurelay::testing::TempDir;

TEST(SpooledBatch, WrittenBatchReadsBackWithItsOldestEventTime) {
  TempDir dir;
  SpoolConfig config;
  config.dir = (dir.path() / "spool").string();
  Spool spool(config);
  ASSERT_TRUE(spool.open().ok());
  const std::string ndjson = "{\"a\":1}\n{\"b\":2}\n";
  SpoolWrite written = spool_batch(spool, 2, 1764633600123, ndjson);
  EXPECT_EQ(written.result, SpoolAppendResult::appended);
  EXPECT_EQ(written.spooled, 2u);
  EXPECT_EQ(written.dropped_spool_full, 0u);
  EXPECT_TRUE(written.problem.empty());

  SpoolRecord record;
  ASSERT_TRUE(spool.read_next(record));
  EXPECT_EQ(record.items, 2u);
  std::optional<SpooledBatch> batch = read_spooled_batch(std::move(record.payload));
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->oldest_ms, 1764633600123u);
  EXPECT_EQ(batch->ndjson, ndjson);
}

TEST(SpooledBatch, PayloadShorterThanItsHeadIsNoBatch) {
  EXPECT_FALSE(read_spooled_batch("1234567").has_value());
  std::optional<SpooledBatch> empty = read_spooled_batch(std::string(8, '\0'));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->oldest_ms, 0u);
  EXPECT_TRUE(empty->ndjson.empty());
}

TEST(SpooledBatch, FullSpoolWithDropNewestSaysSoAndCountsTheDocuments) {
  TempDir dir;
  SpoolConfig config;
  config.dir = (dir.path() / "spool").string();
  config.max_bytes = 4096;
  config.segment_max_bytes = 1024;
  config.full_action = SpoolFullAction::drop_newest;
  Spool spool(config);
  ASSERT_TRUE(spool.open().ok());
  const std::string ndjson(900, 'x');
  SpoolWrite written;
  for (int i = 0; i < 20 && written.result != SpoolAppendResult::dropped_newest; ++i)
    written = spool_batch(spool, 3, 0, ndjson);
  ASSERT_EQ(written.result, SpoolAppendResult::dropped_newest);
  EXPECT_EQ(written.spooled, 0u);
  EXPECT_EQ(written.dropped_spool_full, 3u);
  EXPECT_EQ(written.problem, "spool full: newest documents dropped");
}

TEST(SpooledBatch, SinkSpoolSaysWhatAPreviousRunLeft) {
  TempDir dir;
  SpoolConfig config;
  config.dir = (dir.path() / "spool").string();
  {
    CapturedLog log;
    Result<std::unique_ptr<Spool>> first = open_sink_spool("http sink", config);
    ASSERT_TRUE(first.ok()) << first.error();
    EXPECT_EQ(log.text().find("previous run"), std::string::npos) << log.text();
    EXPECT_EQ(spool_batch(**first, 2, 0, "{}\n{}\n").result, SpoolAppendResult::appended);
    (*first)->sync();
  }
  CapturedLog log;
  Result<std::unique_ptr<Spool>> again = open_sink_spool("amqp sink", config);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ((*again)->unread_items(), 2u);
  EXPECT_NE(log.text().find("amqp sink: 2 document(s) left in spool " + config.dir +
                            " by a previous run: sending them first"),
            std::string::npos)
      << log.text();

  SpoolConfig unusable;
  unusable.dir = "/proc/aurelay-no-such-dir/spool";
  Result<std::unique_ptr<Spool>> refused = open_sink_spool("http sink", unusable);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("/proc/aurelay-no-such-dir/spool"), std::string::npos);
}

}  // namespace
}  // namespace aurelay::output
