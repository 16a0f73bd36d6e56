// The pipeline's threads and rings with in-memory sources and sinks: every event is delivered
// once, a slow sink backs up to the reader (block) or costs counted records (drop), and a stop
// drains what was read. A replay (not live) wakes threads only once several batches are queued
// and still delivers everything; live input hands documents to an idle shipper at once.
#include "collector/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "test_support.h"

namespace aurelay::collector {
namespace {

using namespace std::chrono_literals;
using testing::CapturedLog;
using testing::count_occurrences;

// Appends a USER_LOGIN record (an event complete at once) with `serial` and `op`'s text.
void append_user_login(correlate::RecordBatch& batch, std::uint64_t serial,
                       std::string_view op = "login acct=\"root\"") {
  std::string line = "type=USER_LOGIN msg=audit(1700000000.000:" + std::to_string(serial) +
                     "): pid=1 uid=0 auid=0 ses=1 msg='op=";
  line.append(op);
  line.append(" res=success'");
  batch.append(correlate::RecordBatch::kLogLine, line);
}

// Produces `events` single-record events (USER_LOGIN, complete at once), as fast as asked.
class GeneratedSource final : public RecordSource {
 public:
  // `enobufs_every`: count a socket overrun every that many reads (0 = never).
  // Counts into `stats` (the pipeline's Metrics, as the daemon's sources do) when given.
  explicit GeneratedSource(std::uint64_t events, bool endless = false, int enobufs_every = 0,
                           ReceiveStats* stats = nullptr)
      : events_(events), endless_(endless), enobufs_every_(enobufs_every), stats_(stats) {}

  SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records, int) override {
    if (stopped_ || (!endless_ && next_ >= events_)) return SourceStatus::end;
    std::size_t added = 0;
    while (added < max_records && (endless_ || next_ < events_)) {
      append_user_login(batch, ++next_);
      ++added;
    }
    increment(stats_->records_received, added);
    if (enobufs_every_ > 0 && ++reads_ % enobufs_every_ == 0) increment(stats_->receive_enobufs);
    return SourceStatus::records;
  }
  void stop_intake() override { stopped_ = true; }
  const ReceiveStats& stats() const override { return *stats_; }
  const std::string& error() const override { return error_; }

 private:
  std::uint64_t events_;
  bool endless_;
  int enobufs_every_;
  std::uint64_t reads_ = 0;
  std::uint64_t next_ = 0;
  bool stopped_ = false;
  StatsStorage<ReceiveStats> stats_{nullptr};
  std::string error_;
};

// Remembers every document's event serial; optionally slow.
class RecordingSink final : public output::Sink {
 public:
  explicit RecordingSink(std::chrono::milliseconds delay_per_batch = 0ms, int failures = 0,
                         output::OutputStats* stats = nullptr)
      : Sink(stats), delay_(delay_per_batch), failures_left_(failures) {}
  output::SinkStatus write(const DocumentBatch& batch) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);  // a slow sink is the test
    std::lock_guard lock(mutex_);
    ++writes_;
    if (failures_left_ > 0) {  // takes nothing and says so: the pipeline writes it again
      --failures_left_;
      error_ = "recording sink: refusing on purpose";
      return output::SinkStatus::failed;
    }
    for (std::size_t i = 0; i < batch.count(); ++i) {
      std::string_view document = batch.document(i);
      auto at = document.find("\"auditserial\":\"");
      if (at == std::string_view::npos) continue;
      at += 15;
      serials_.insert(std::string(document.substr(at, document.find('"', at) - at)));
      ++documents_;
    }
    increment(counters().documents_delivered, batch.count());
    return output::SinkStatus::ok;
  }
  bool flush(int) override { return true; }
  const std::string& last_error() const override { return error_; }
  std::size_t documents() {
    std::lock_guard lock(mutex_);
    return documents_;
  }
  std::size_t distinct() {
    std::lock_guard lock(mutex_);
    return serials_.size();
  }
  std::size_t writes() {
    std::lock_guard lock(mutex_);
    return writes_;
  }

 private:
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::set<std::string> serials_;
  std::size_t documents_ = 0;
  std::size_t writes_ = 0;
  int failures_left_ = 0;
  std::string error_;
};

PipelineConfig small_config() {
  PipelineConfig config;
  config.process_context = false;  // synthetic records: their pids are nobody's in /proc
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
  auto sink = std::make_unique<RecordingSink>(0ms, 0, &metrics);
  RecordingSink* recording = sink.get();
  Pipeline pipeline(small_config(), std::make_unique<GeneratedSource>(50000, false, 0, &metrics),
                    std::move(sink), metrics);
  pipeline.start();
  wait_finished(pipeline);
  EXPECT_EQ(recording->documents(), 50000u);
  EXPECT_EQ(recording->distinct(), 50000u);
  EXPECT_EQ(metrics.records_received.load(), 50000u);
  EXPECT_EQ(metrics.events_completed.load(), 50000u);
  EXPECT_EQ(metrics.documents_delivered.load(), 50000u);
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
  CapturedLog log;
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
  // Warned about, once per interval (the run takes less than one).
  EXPECT_EQ(
      count_occurrences(log.text(), "record ring full: correlator is behind (dropping records)"),
      1u)
      << log.text();
}

TEST(Pipeline, SocketOverrunsAreCountedAndWarnedAboutOnce) {
  CapturedLog log;
  Metrics metrics;
  Pipeline pipeline(small_config(), std::make_unique<GeneratedSource>(5000, false, 10, &metrics),
                    std::make_unique<RecordingSink>(), metrics);
  pipeline.start();
  wait_finished(pipeline);
  EXPECT_GT(metrics.receive_enobufs.load(), 1u);
  EXPECT_EQ(count_occurrences(log.text(), "audit socket overrun (ENOBUFS)"), 1u) << log.text();
}

TEST(Pipeline, FailingSinkGetsTheSameBatchAgainAndEveryDocumentOnce) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>(0ms, 3);
  RecordingSink* recording = sink.get();
  Pipeline pipeline(small_config(), std::make_unique<GeneratedSource>(5000), std::move(sink),
                    metrics);
  pipeline.start();
  wait_finished(pipeline);
  EXPECT_EQ(recording->documents(), 5000u);  // nothing twice ...
  EXPECT_EQ(recording->distinct(), 5000u);   // ... nothing lost
  EXPECT_GE(recording->writes(), 3u + 1u);
}

TEST(Pipeline, StopDrainsWhatWasReadAndEnds) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* recording = sink.get();
  Pipeline pipeline(small_config(), std::make_unique<GeneratedSource>(0, true, 0, &metrics),
                    std::move(sink), metrics);
  pipeline.start();
  ASSERT_TRUE(aurelay::testing::wait_for([&] { return recording->documents() > 0; }, 30s));
  pipeline.request_stop();
  wait_finished(pipeline);
  EXPECT_GT(recording->documents(), 0u);
  EXPECT_EQ(recording->documents(), metrics.records_received.load());
  EXPECT_EQ(recording->distinct(), recording->documents());
}

// A burst of large records (full batches), then quiet (idle reads), then one small record: the
// capacity of every batch the pipeline hands it is noted.
class BurstThenQuietSource final : public RecordSource {
 public:
  static constexpr int kBurstReads = 16;
  static constexpr int kQuietReads = 5;

  SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records, int) override {
    std::lock_guard lock(mutex_);
    ++reads_;
    if (reads_ <= kBurstReads) {
      const std::string padding(4000, 'x');
      for (std::size_t i = 0; i < max_records; ++i) append(batch, padding);
      return SourceStatus::records;
    }
    if (reads_ <= kBurstReads + kQuietReads) return SourceStatus::idle;
    if (reads_ == kBurstReads + kQuietReads + 1) {
      capacity_after_quiet_ = batch.byte_capacity();
      append(batch, "quiet");
      return SourceStatus::records;
    }
    return SourceStatus::end;
  }
  void stop_intake() override {}
  const ReceiveStats& stats() const override { return *stats_; }
  const std::string& error() const override { return error_; }
  std::size_t capacity_after_quiet() {
    std::lock_guard lock(mutex_);
    return capacity_after_quiet_;
  }

 private:
  void append(correlate::RecordBatch& batch, const std::string& text) {
    append_user_login(batch, ++serial_, text);
    increment(stats_->records_received);
  }

  mutable std::mutex mutex_;
  int reads_ = 0;
  std::uint64_t serial_ = 0;
  std::size_t capacity_after_quiet_ = SIZE_MAX;
  StatsStorage<ReceiveStats> stats_{nullptr};
  std::string error_;
};

TEST(Pipeline, BatchesGrownByABurstAreLetGoOnceTheInputIsQuiet) {
  Metrics metrics;
  auto source = std::make_unique<BurstThenQuietSource>();
  BurstThenQuietSource* burst = source.get();
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* recording = sink.get();
  Pipeline pipeline(small_config(), std::move(source), std::move(sink), metrics);
  pipeline.start();
  wait_finished(pipeline);
  // 16 reads of 64 records of 4 KB: every batch held 256 KB; after the quiet reads the batch
  // the source is handed holds (almost) nothing allocated.
  EXPECT_LT(burst->capacity_after_quiet(), 4096u);
  EXPECT_EQ(metrics.record_batches_handed_over.load(), BurstThenQuietSource::kBurstReads + 1u);
  EXPECT_EQ(recording->distinct(), BurstThenQuietSource::kBurstReads * 64u + 1u);
}

TEST(Pipeline, ReplayWakingPerSeveralBatchesDeliversEveryEventOnce) {
  for (std::chrono::milliseconds sink_delay : {0ms, 1ms}) {
    Metrics metrics;
    auto sink = std::make_unique<RecordingSink>(sink_delay);
    RecordingSink* recording = sink.get();
    PipelineConfig config = small_config();
    config.live = false;
    config.warn_when_ring_full = false;
    config.record_batches = 8;
    config.document_batches = 8;
    config.document_linger = 10s;  // only the end of input hands over the last documents
    Pipeline pipeline(config, std::make_unique<GeneratedSource>(20000), std::move(sink), metrics);
    pipeline.start();
    wait_finished(pipeline);
    EXPECT_EQ(recording->documents(), 20000u) << "sink delay " << sink_delay.count() << " ms";
    EXPECT_EQ(recording->distinct(), 20000u);
    EXPECT_EQ(metrics.ring_full_dropped.load(), 0u);
  }
}

// `reads` reads of `per_read` records, each read after `pause` (as a live kernel delivers
// them), then idle until stopped.
class PacedSource final : public RecordSource {
 public:
  PacedSource(int reads, std::size_t per_read, std::chrono::milliseconds pause)
      : reads_left_(reads), per_read_(per_read), pause_(pause) {}

  SourceStatus read(correlate::RecordBatch& batch, std::size_t, int) override {
    if (stopped_) return SourceStatus::end;
    std::this_thread::sleep_for(pause_);
    if (reads_left_ == 0) return SourceStatus::idle;
    --reads_left_;
    for (std::size_t i = 0; i < per_read_; ++i) append_user_login(batch, ++serial_);
    increment(stats_->records_received, per_read_);
    return SourceStatus::records;
  }
  void stop_intake() override { stopped_ = true; }
  const ReceiveStats& stats() const override { return *stats_; }
  const std::string& error() const override { return error_; }

 private:
  int reads_left_;
  std::size_t per_read_;
  std::chrono::milliseconds pause_;
  std::uint64_t serial_ = 0;
  bool stopped_ = false;
  StatsStorage<ReceiveStats> stats_{nullptr};
  std::string error_;
};

TEST(Pipeline, AQuietHostsEventGoesToTheIdleShipperWithoutLingering) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* recording = sink.get();
  PipelineConfig config = small_config();
  config.document_linger = 30s;  // only the idle shipper can explain a quick delivery
  Pipeline pipeline(config, std::make_unique<PacedSource>(1, 1, 5ms), std::move(sink), metrics);
  pipeline.start();
  EXPECT_TRUE(aurelay::testing::wait_for([&] { return recording->documents() == 1; }, 5s));
  pipeline.request_stop();
  wait_finished(pipeline);
  EXPECT_EQ(recording->documents(), 1u);
}

TEST(Pipeline, ALiveStormStillMovesInFewLargeBatchesWhileTheShipperIsBusy) {
  Metrics metrics;
  auto sink = std::make_unique<RecordingSink>(20ms);  // busy 20 ms per batch
  RecordingSink* recording = sink.get();
  PipelineConfig config = small_config();
  config.record_batches = 8;
  config.document_batches = 8;
  config.max_documents_per_batch = 4096;
  constexpr int kReads = 100;
  constexpr std::size_t kPerRead = 32;
  Pipeline pipeline(config, std::make_unique<PacedSource>(kReads, kPerRead, 2ms), std::move(sink),
                    metrics);
  pipeline.start();
  ASSERT_TRUE(
      aurelay::testing::wait_for([&] { return recording->documents() == kReads * kPerRead; }, 30s));
  pipeline.request_stop();
  wait_finished(pipeline);
  EXPECT_EQ(recording->distinct(), kReads * kPerRead);
  // Handed over whenever the shipper went idle, one batch per record batch would be 100 writes;
  // while it is busy the documents wait and leave together.
  EXPECT_LE(recording->writes(), static_cast<std::size_t>(kReads) / 3) << recording->writes();
}

}  // namespace
}  // namespace aurelay::collector
