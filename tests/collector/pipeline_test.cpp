// The pipeline's threads and rings with in-memory sources and sinks: every event is delivered
// once, a slow sink backs up to the reader (block) or costs counted records (drop), and a stop
// drains what was read.
#include "collector/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "test_support.h"

namespace aurelay::collector {
namespace {

using namespace std::chrono_literals;

// Produces `events` single-record events (USER_LOGIN, complete at once), as fast as asked.
class GeneratedSource final : public RecordSource {
 public:
  explicit GeneratedSource(std::uint64_t events, bool endless = false)
      : events_(events), endless_(endless) {}

  SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records, int) override {
    if (stopped_ || (!endless_ && next_ >= events_)) return SourceStatus::end;
    std::size_t added = 0;
    while (added < max_records && (endless_ || next_ < events_)) {
      std::string line = "type=USER_LOGIN msg=audit(1700000000.000:" + std::to_string(++next_) +
                         "): pid=1 uid=0 auid=0 ses=1 msg='op=login acct=\"root\" res=success'";
      batch.append(correlate::RecordBatch::kLogLine, line);
      ++added;
    }
    counters_.records += added;
    return SourceStatus::records;
  }
  void stop_intake() override { stopped_ = true; }
  SourceCounters counters() const override { return counters_; }
  const std::string& error() const override { return error_; }

 private:
  std::uint64_t events_;
  bool endless_;
  std::uint64_t next_ = 0;
  bool stopped_ = false;
  SourceCounters counters_;
  std::string error_;
};

// Remembers every document's event serial; optionally slow.
class RecordingSink final : public output::Sink {
 public:
  explicit RecordingSink(std::chrono::milliseconds delay_per_batch = 0ms)
      : delay_(delay_per_batch) {}
  output::SinkStatus write(const output::DocumentBatch& batch) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);  // a slow sink is the test
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < batch.count(); ++i) {
      std::string_view document = batch.document(i);
      auto at = document.find("\"auditserial\":\"");
      if (at == std::string_view::npos) continue;
      at += 15;
      serials_.insert(std::string(document.substr(at, document.find('"', at) - at)));
      ++documents_;
    }
    return output::SinkStatus::ok;
  }
  bool flush(int) override { return true; }
  const std::string& last_error() const override { return error_; }
  output::SinkStats stats() override {
    std::lock_guard lock(mutex_);
    output::SinkStats stats;
    stats.delivered = documents_;
    return stats;
  }
  std::size_t documents() {
    std::lock_guard lock(mutex_);
    return documents_;
  }
  std::size_t distinct() {
    std::lock_guard lock(mutex_);
    return serials_.size();
  }

 private:
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::set<std::string> serials_;
  std::size_t documents_ = 0;
  std::string error_;
};

PipelineConfig small_config() {
  PipelineConfig config;
  config.record_batches = 4;
  config.max_records_per_batch = 64;
  config.document_batches = 2;
  config.max_documents_per_batch = 64;
  config.encoder.hostname = "test";
  return config;
}

void wait_finished(Pipeline& pipeline) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!pipeline.finished() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(pipeline.finished());
  pipeline.join();
}

TEST(Pipeline, DeliversEveryEventExactlyOnce) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* recording = sink.get();
  Pipeline pipeline(small_config(), std::make_unique<GeneratedSource>(50000), std::move(sink),
                    metrics);
  pipeline.start();
  wait_finished(pipeline);
  EXPECT_EQ(recording->documents(), 50000u);
  EXPECT_EQ(recording->distinct(), 50000u);
  EXPECT_EQ(metrics.records_received.load(), 50000u);
  EXPECT_EQ(metrics.events_completed.load(), 50000u);
  EXPECT_EQ(metrics.delivered.load(), 50000u);
  EXPECT_EQ(metrics.ring_full_dropped.load(), 0u);
}

TEST(Pipeline, SlowSinkWithBlockPausesTheReaderAndLosesNothing) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>(2ms);
  RecordingSink* recording = sink.get();
  PipelineConfig config = small_config();
  config.queue_full_action = QueueFullAction::block;
  Pipeline pipeline(config, std::make_unique<GeneratedSource>(20000), std::move(sink), metrics);
  pipeline.start();
  wait_finished(pipeline);
  EXPECT_GT(metrics.ring_full_waits.load(), 0u);
  EXPECT_EQ(metrics.ring_full_dropped.load(), 0u);
  EXPECT_EQ(recording->distinct(), 20000u);
}

TEST(Pipeline, SlowSinkWithDropCountsWhatItDrops) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>(2ms);
  RecordingSink* recording = sink.get();
  PipelineConfig config = small_config();
  config.queue_full_action = QueueFullAction::drop;
  Pipeline pipeline(config, std::make_unique<GeneratedSource>(20000), std::move(sink), metrics);
  pipeline.start();
  wait_finished(pipeline);
  std::uint64_t dropped = metrics.ring_full_dropped.load();
  EXPECT_GT(dropped, 0u);
  // Every record is either delivered as an event or counted as dropped.
  EXPECT_EQ(recording->distinct() + dropped, 20000u);
  EXPECT_EQ(recording->documents(), recording->distinct());
}

TEST(Pipeline, StopDrainsWhatWasReadAndEnds) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* recording = sink.get();
  Pipeline pipeline(small_config(), std::make_unique<GeneratedSource>(0, true), std::move(sink),
                    metrics);
  pipeline.start();
  ASSERT_TRUE(aurelay::testing::wait_for([&] { return recording->documents() > 0; }, 30s));
  pipeline.request_stop();
  wait_finished(pipeline);
  EXPECT_GT(recording->documents(), 0u);
  EXPECT_EQ(recording->documents(), metrics.records_received.load());
  EXPECT_EQ(recording->distinct(), recording->documents());
}

}  // namespace
}  // namespace aurelay::collector
