// HttpSink against the real test server (tests/mozdef_server.py) on 127.0.0.1.
#include "output/http/http_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "mozdef_test_server.h"
#include "test_support.h"

namespace aurelay::output {
namespace {

using aurelay::testing::make_batch;
using aurelay::testing::MozdefTestServer;
using aurelay::testing::pump_until;
using aurelay::testing::TempDir;

HttpSinkConfig base_config(const MozdefTestServer& server, const std::string& path = "/_bulk") {
  HttpSinkConfig config;
  config.url = server.url(path);
  config.delivery.batch_max_events = 100;
  config.delivery.batch_flush_ms = 50;
  config.delivery.retry_base_ms = 20;
  config.delivery.retry_max_ms = 200;
  config.request_timeout_ms = 3000;
  config.connect_timeout_ms = 1000;
  return config;
}

void expect_each_once(const std::map<std::string, int>& ids, const std::string& prefix, int count) {
  int missing = 0;
  int duplicated = 0;
  for (int i = 0; i < count; ++i) {
    auto it = ids.find(prefix + std::to_string(i));
    if (it == ids.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  EXPECT_EQ(missing, 0) << prefix;
  EXPECT_EQ(duplicated, 0) << prefix;
}

// Polls the sink for `ms` of its clock's time (virtual with a ManualClock: only the waits on the
// real server take real time).
void run_for(HttpSink& sink, Clock& clock, std::int64_t ms) {
  const std::int64_t end = clock.steady_ms() + ms;
  while (clock.steady_ms() < end) sink.poll(20);
}

int count_present(const std::map<std::string, int>& ids, const std::string& prefix, int count) {
  int present = 0;
  for (int i = 0; i < count; ++i) present += ids.count(prefix + std::to_string(i)) ? 1 : 0;
  return present;
}

struct FormatCase {
  BulkFormat format;
  const char* path;
  int documents;
};

class HttpSinkFormats : public ::testing::TestWithParam<FormatCase> {};

TEST_P(HttpSinkFormats, EveryDocumentArrivesExactlyOnce) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server, GetParam().path);
  config.bulk_format = GetParam().format;
  HttpSink sink(config);
  Status opened = sink.open();
  ASSERT_TRUE(opened.ok()) << opened.error();
  const int total = GetParam().documents;
  for (int first = 0; first < total; first += 37) {
    // A document with characters JSON escapes, and odd batch sizes to exercise the batching.
    auto batch = make_batch("doc-", first, std::min(37, total - first), "a\\\"b\\u0001");
    ASSERT_EQ(sink.write(batch), SinkStatus::ok);
    sink.poll(0);
  }
  ASSERT_TRUE(sink.flush(15000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), static_cast<std::uint64_t>(total));
  EXPECT_EQ(value_of(sink.stats().batches_retried), 0u);
  EXPECT_EQ(value_of(sink.stats().documents_spooled), 0u);
  EXPECT_EQ(value_of(sink.stats().last_http_status), 200);
  EXPECT_EQ(sink.queued_documents(), 0u);
  EXPECT_EQ(value_of(sink.stats().output_batches_in_flight), 0u);
  EXPECT_LT(value_of(sink.stats().delivery_latency_p99_ms), 15000u);
  EXPECT_LE(value_of(sink.stats().delivery_latency_p50_ms),
            value_of(sink.stats().delivery_latency_p99_ms));
  if (GetParam().format != BulkFormat::single) {
    EXPECT_LE(value_of(sink.stats().batches_delivered),
              static_cast<std::uint64_t>(total / 100 + 40));
  } else {
    EXPECT_EQ(value_of(sink.stats().batches_delivered), static_cast<std::uint64_t>(total));
  }
  expect_each_once(server.received_ids(), "doc-", total);
}

INSTANTIATE_TEST_SUITE_P(Bulk, HttpSinkFormats,
                         ::testing::Values(FormatCase{BulkFormat::array, "/_bulk", 3000},
                                           FormatCase{BulkFormat::ndjson, "/_bulk", 3000},
                                           FormatCase{BulkFormat::single, "/events", 300}));

TEST(HttpSink, OpenRejectsAMissingOrNonHttpUrl) {
  HttpSinkConfig config;
  Status opened = HttpSink(config).open();
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(opened.error().find("URL"), std::string::npos);
  config.url = "ftp://127.0.0.1/x";
  opened = HttpSink(config).open();
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(opened.error().find("ftp://"), std::string::npos);
}

// The server stops listening for `outage_ms` while documents keep coming: they are spooled, and
// once it listens again every one arrives and the spool drains. The outage and the backoff run in
// virtual time.
void run_outage(int outage_ms, int total) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.delivery.spool_dir = (dir.path() / "spool").string();
  config.delivery.spool_segment_bytes = 64 << 10;
  ManualClock clock;
  HttpSink sink(config, clock);
  Status opened = sink.open();
  ASSERT_TRUE(opened.ok()) << opened.error();

  ASSERT_EQ(server.command("refuse"), "ok");
  const std::int64_t start = clock.steady_ms();
  const int chunks = 50;
  for (int c = 0; c < chunks; ++c) {
    int first = c * (total / chunks);
    auto batch = make_batch("out-", first, total / chunks);
    EXPECT_EQ(sink.write(batch), SinkStatus::ok);
    const std::int64_t until = start + outage_ms * (c + 1) / chunks;
    while (clock.steady_ms() < until) sink.poll(10);
  }
  // Backed off in between: a probe now and then, not one per poll.
  EXPECT_GE(value_of(sink.stats().output_transport_errors), 5u);
  EXPECT_LT(value_of(sink.stats().output_transport_errors),
            static_cast<std::uint64_t>(outage_ms / 10));
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 0u);
  EXPECT_GT(value_of(sink.stats().output_transport_errors), 0u);
  EXPECT_GT(value_of(sink.stats().documents_spooled), 0u);
  EXPECT_GT(value_of(sink.stats().spool_bytes), 0u);
  EXPECT_EQ(value_of(sink.stats().last_http_status), 0);
  EXPECT_FALSE(sink.last_error().empty());

  ASSERT_EQ(server.command("accept"), "ok");
  // New documents keep flowing while the spool drains.
  auto late = make_batch("late-", 0, 200);
  EXPECT_EQ(sink.write(late), SinkStatus::ok);
  ASSERT_TRUE(pump_until(
      sink, [&] { return sink.idle(); }, 15000))
      << sink.last_error();
  const OutputStats& counters = sink.stats();
  EXPECT_EQ(value_of(counters.documents_delivered), static_cast<std::uint64_t>(total + 200));
  EXPECT_EQ(value_of(counters.spool_bytes), 0u);
  EXPECT_EQ(value_of(counters.spool_segments), 0u);
  EXPECT_EQ(value_of(counters.documents_dropped_spool_full), 0u);
  auto ids = server.received_ids();
  EXPECT_EQ(count_present(ids, "out-", total), total);
  EXPECT_EQ(count_present(ids, "late-", 200), 200);
  EXPECT_TRUE(std::filesystem::is_empty(config.delivery.spool_dir));
}

TEST(HttpSink, ServerRefusingForAWhileLosesNothing) { run_outage(3000, 10000); }

// The 30 s outage, in virtual time.
TEST(HttpSink, ServerRefusingForThirtySecondsLosesNothing) { run_outage(30000, 10000); }

TEST(HttpSink, ServerErrorsAreRetriedFromMemoryWithoutASpool) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson", {"--mode", "500"});
  ASSERT_GT(server.port(), 0);
  ManualClock clock;
  HttpSink sink(base_config(server), clock);
  ASSERT_TRUE(sink.open().ok());
  ASSERT_EQ(sink.write(make_batch("r-", 0, 1000)), SinkStatus::ok);
  run_for(sink, clock, 1000);
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 0u);
  EXPECT_GE(value_of(sink.stats().batches_retried), 3u);
  EXPECT_EQ(value_of(sink.stats().last_http_status), 500);
  EXPECT_EQ(value_of(sink.stats().documents_rejected), 0u);
  EXPECT_NE(sink.last_error().find("500"), std::string::npos);
  ASSERT_EQ(server.command("mode ok"), "ok");
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 1000u);
  expect_each_once(server.received_ids(), "r-", 1000);
}

TEST(HttpSink, HangsAndConnectionsClosedMidRequestAreRetried) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.request_timeout_ms = 400;  // curl's own timer: real time
  ManualClock clock;
  HttpSink sink(config, clock);
  ASSERT_TRUE(sink.open().ok());
  ASSERT_EQ(server.command("mode hang"), "ok");
  ASSERT_EQ(sink.write(make_batch("h-", 0, 300)), SinkStatus::ok);
  EXPECT_TRUE(pump_until(
      sink, [&] { return value_of(sink.stats().output_transport_errors) >= 1; }, 5000));
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 0u);
  ASSERT_EQ(server.command("mode close"), "ok");
  const std::uint64_t hangs = value_of(sink.stats().output_transport_errors);
  EXPECT_TRUE(pump_until(
      sink, [&] { return value_of(sink.stats().output_transport_errors) >= hangs + 1; }, 5000));
  EXPECT_GE(value_of(sink.stats().output_transport_errors), 2u);
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 0u);
  ASSERT_EQ(server.command("slow 100"), "ok");
  ASSERT_EQ(server.command("mode ok"), "ok");
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 300u);
  expect_each_once(server.received_ids(), "h-", 300);
}

TEST(HttpSink, RejectedDocumentsGoToTheDeadLetterFileAndTheRestIsDelivered) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson", {"--reject-marker", "POISON"});
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.delivery.dead_letter_file = (dir.path() / "dead.ndjson").string();
  HttpSink sink(config);
  ASSERT_TRUE(sink.open().ok());
  ASSERT_EQ(sink.write(make_batch("ok-", 0, 57)), SinkStatus::ok);
  ASSERT_EQ(sink.write(make_batch("bad-", 0, 1, "POISON")), SinkStatus::ok);
  ASSERT_EQ(sink.write(make_batch("ok-", 57, 75)), SinkStatus::ok);
  ASSERT_EQ(sink.write(make_batch("bad-", 1, 1, "POISON")), SinkStatus::ok);
  ASSERT_EQ(sink.write(make_batch("ok-", 132, 68)), SinkStatus::ok);
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 200u);
  EXPECT_EQ(value_of(sink.stats().documents_rejected), 2u);
  EXPECT_EQ(value_of(sink.stats().documents_dead_lettered), 2u);
  EXPECT_GT(value_of(sink.stats().rejected_splits), 0u);
  EXPECT_EQ(value_of(sink.stats().batches_retried), 0u);
  EXPECT_NE(sink.last_error().find("400"), std::string::npos);
  expect_each_once(server.received_ids(), "ok-", 200);
  EXPECT_EQ(count_present(server.received_ids(), "bad-", 2), 0);
  std::string dead = aurelay::testing::read_file(config.delivery.dead_letter_file);
  EXPECT_NE(dead.find("\"id\":\"bad-0\""), std::string::npos);
  EXPECT_NE(dead.find("\"id\":\"bad-1\""), std::string::npos);
  EXPECT_EQ(std::count(dead.begin(), dead.end(), '\n'), 2);
}

// A sink filled while the server refuses, flushed with a short deadline: all goes to the spool.
void fill_spool(const HttpSinkConfig& config, MozdefTestServer& server, const std::string& prefix,
                int total) {
  ASSERT_EQ(server.command("refuse"), "ok");
  ManualClock clock;
  HttpSink sink(config, clock);
  Status opened = sink.open();
  ASSERT_TRUE(opened.ok()) << opened.error();
  for (int first = 0; first < total; first += 100) {
    sink.write(make_batch(prefix, first, 100));
    sink.poll(5);
  }
  EXPECT_FALSE(sink.flush(300));
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 0u);
  ASSERT_EQ(server.command("accept"), "ok");
}

TEST(HttpSink, ANewSinkSendsTheSpoolLeftByThePreviousOneFirst) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.delivery.spool_dir = (dir.path() / "spool").string();
  config.http_max_inflight = 1;
  fill_spool(config, server, "old-", 2000);
  ASSERT_FALSE(std::filesystem::is_empty(config.delivery.spool_dir));

  HttpSink sink(config);
  ASSERT_TRUE(sink.open().ok());
  EXPECT_GT(value_of(sink.stats().spool_bytes), 0u);
  ASSERT_EQ(sink.write(make_batch("new-", 0, 100)), SinkStatus::ok);
  ASSERT_TRUE(sink.flush(15000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 2100u);
  EXPECT_EQ(value_of(sink.stats().documents_unspooled), 2000u);
  auto ids = server.received_ids();
  expect_each_once(ids, "old-", 2000);
  expect_each_once(ids, "new-", 100);
  std::ifstream received(dir.path() / "received.ndjson");
  std::string first_line;
  std::getline(received, first_line);
  EXPECT_NE(first_line.find("\"id\":\"old-0\""), std::string::npos) << first_line;
  EXPECT_TRUE(std::filesystem::is_empty(config.delivery.spool_dir));
}

TEST(HttpSink, ACorruptSpoolTailIsCountedAndTheRestDelivered) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.delivery.spool_dir = (dir.path() / "spool").string();
  fill_spool(config, server, "c-", 1000);
  std::vector<std::filesystem::path> segments;
  for (const auto& entry : std::filesystem::directory_iterator(config.delivery.spool_dir)) {
    segments.push_back(entry.path());
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_FALSE(segments.empty());
  auto size = std::filesystem::file_size(segments.back());
  std::filesystem::resize_file(segments.back(), size - 100);  // crash mid-record

  HttpSink sink(config);
  ASSERT_TRUE(sink.open().ok());
  ASSERT_TRUE(sink.flush(15000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().spool_corrupt_records), 1u);
  EXPECT_GT(value_of(sink.stats().spool_corrupt_bytes), 0u);
  // Exactly the last record (one batch of 100) is lost.
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 900u);
  EXPECT_EQ(count_present(server.received_ids(), "c-", 1000), 900);
  EXPECT_TRUE(std::filesystem::is_empty(config.delivery.spool_dir));
}

class HttpSinkSpoolFull : public ::testing::TestWithParam<SpoolFullAction> {};

TEST_P(HttpSinkSpoolFull, DropsAreCountedAndTheRestIsDelivered) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.delivery.spool_dir = (dir.path() / "spool").string();
  config.delivery.spool_max_bytes = 200 << 10;
  config.delivery.spool_segment_bytes = 32 << 10;
  config.delivery.spool_full_action = GetParam();
  const int total = 5000;  // ~700 KiB of documents
  ASSERT_EQ(server.command("refuse"), "ok");
  ManualClock clock;
  HttpSink sink(config, clock);
  ASSERT_TRUE(sink.open().ok());
  int failed_writes = 0;
  for (int first = 0; first < total; first += 100) {
    failed_writes += sink.write(make_batch("f-", first, 100)) == SinkStatus::failed ? 1 : 0;
    sink.poll(5);
  }
  EXPECT_GT(value_of(sink.stats().documents_dropped_spool_full), 0u);
  EXPECT_LE(value_of(sink.stats().spool_bytes), config.delivery.spool_max_bytes);
  ASSERT_EQ(server.command("accept"), "ok");
  ASSERT_TRUE(sink.flush(15000)) << sink.last_error();
  const OutputStats& counters = sink.stats();
  EXPECT_EQ(
      value_of(counters.documents_delivered) + value_of(counters.documents_dropped_spool_full),
      static_cast<std::uint64_t>(total));
  auto ids = server.received_ids();
  EXPECT_EQ(count_present(ids, "f-", total),
            static_cast<int>(value_of(counters.documents_delivered)));
  // Every write took its batch (the drops are the sink's to count): the caller never writes the
  // same documents twice.
  EXPECT_EQ(failed_writes, 0);
  EXPECT_EQ(server.published().size(), value_of(counters.documents_delivered));
  if (GetParam() == SpoolFullAction::drop_newest) {
    EXPECT_EQ(ids.count("f-0"), 1u);
    EXPECT_EQ(ids.count("f-" + std::to_string(total - 1)), 0u);
  } else {
    EXPECT_EQ(ids.count("f-" + std::to_string(total - 1)), 1u);
    EXPECT_EQ(ids.count("f-2000"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Actions, HttpSinkSpoolFull,
                         ::testing::Values(SpoolFullAction::drop_newest,
                                           SpoolFullAction::drop_oldest));

// A quiet host: a lone document leaves at once, not after batch_flush_ms, and so does the next.
TEST(HttpSink, ALoneDocumentIsSentWithoutWaitingForTheBatchDeadline) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.delivery.batch_flush_ms = 1000;
  ManualClock clock;
  HttpSink sink(config, clock);
  ASSERT_TRUE(sink.open().ok());
  for (int i = 0; i < 5; ++i) {
    const std::int64_t written_at = clock.steady_ms();
    ASSERT_EQ(sink.write(make_batch("lone-", i, 1)), SinkStatus::ok);
    ASSERT_TRUE(pump_until(
        sink,
        [&] {
          return value_of(sink.stats().documents_delivered) == static_cast<std::uint64_t>(i + 1);
        },
        5000));
    // Idle polls after the delivery may pass a little virtual time, never the batch deadline.
    EXPECT_LT(clock.steady_ms() - written_at, 100) << "document " << i << " waited for a timer";
    clock.advance(5000);  // quiet for a while
  }
  EXPECT_EQ(value_of(sink.stats().batches_delivered), 5u);
  expect_each_once(server.received_ids(), "lone-", 5);
}

// A busy host: while every connection is busy (one here; the server takes 100 ms to answer)
// documents written a few at a time fill batches up to batch_max_events instead of going out
// one small POST each.
TEST(HttpSink, UnderLoadBatchesFillWhileAPostIsInFlight) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "received.ndjson", {"--slow-ms", "100"});
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config = base_config(server);
  config.http_max_inflight = 1;
  config.delivery.batch_max_events = 100;
  config.delivery.batch_flush_ms = 60000;
  ManualClock clock;
  HttpSink sink(config, clock);
  ASSERT_TRUE(sink.open().ok());
  for (int first = 0; first < 1000; first += 5) {
    ASSERT_EQ(sink.write(make_batch("busy-", first, 5)), SinkStatus::ok);
    sink.poll(0);
  }
  ASSERT_TRUE(sink.flush(60000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 1000u);
  // The first 5 go at once; the other 995 in full batches of 100 (the last one partly full).
  EXPECT_LE(value_of(sink.stats().batches_delivered), 12u);
  EXPECT_GE(value_of(sink.stats().batches_delivered), 10u);
  expect_each_once(server.received_ids(), "busy-", 1000);
}

}  // namespace
}  // namespace aurelay::output
