#include "collector/pipeline.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "base/clocks.h"
#include "base/rate_limited_log.h"
#include "base/write_all.h"
#include "correlate/record.h"

namespace aurelay::collector {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReaderWaitMs = 100;
constexpr auto kSinkRetryDelay = std::chrono::milliseconds(500);
constexpr auto kSinkPublishInterval = std::chrono::milliseconds(100);
// Blocks at least this large are mapped on their own (see Pipeline::start).
constexpr std::size_t kLargeBlockBytes = std::size_t{64} * 1024;
// While records flow, a recycled batch keeps its buffer unless that is larger than this and
// more than twice what the batch just held: a full live batch (128 KiB of records, or up to
// batch_max_bytes of documents) is reused as it is, without mapping and faulting in its pages
// again; only what an outsized event grew shrinks back at once.
constexpr std::size_t kKeepBatchBytesWhileFlowing = std::size_t{1024} * 1024;
// When the input goes quiet, idle batches keep at most this much.
constexpr std::size_t kKeepBatchBytes = std::size_t{64} * 1024;
// The correlator returns freed heap memory to the system once it has been idle this long after
// a burst.
constexpr auto kTrimAfterIdle = std::chrono::seconds(1);

template <typename Batch>
void recycle(Batch& batch) {
  const std::size_t capacity = batch.byte_capacity();
  if (capacity > kKeepBatchBytesWhileFlowing && capacity > 2 * batch.byte_size()) {
    batch.release();  // the next use grows the buffers to what it needs
  } else {
    batch.clear();
  }
}

}  // namespace

Pipeline::Pipeline(PipelineConfig config, std::unique_ptr<RecordSource> source,
                   std::unique_ptr<output::Sink> sink, Metrics& metrics)
    : config_(std::move(config)),
      source_(std::move(source)),
      sink_(std::move(sink)),
      metrics_(metrics),
      encoder_(std::make_unique<mozdef::MozdefEncoder>(config_.encoder, &metrics, &metrics)),
      stopped_by_{::getpid(), ::getuid()},
      full_records_(config_.record_batches),
      free_records_(config_.record_batches),
      full_documents_(config_.document_batches),
      free_documents_(config_.document_batches),
      record_wake_batches_(
          std::max<std::size_t>(1, config_.record_batches - config_.record_batches / 4)),
      document_wake_batches_(
          std::max<std::size_t>(1, config_.document_batches - config_.document_batches / 4)),
      finished_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  // Batches are made when the free ring is empty, up to the configured number: a steady flow
  // the correlator keeps up with circulates two or three, so only those are ever warm (a ring
  // full of them would cycle through all). Every batch fits in either ring, so a push never
  // fails.
  record_batch_pool_.reserve(config_.record_batches);
  document_batch_pool_.reserve(config_.document_batches);
  held_documents_.reserve(config_.document_batches);
  if (config_.filter.any()) {
    // Checked when the config was (validate_config builds the same filters).
    if (auto filter = correlate::EventFilter::build(config_.filter); filter) {
      filter_ = std::move(*filter);
    } else {
      spdlog::error("filters not applied: {}", filter.error());
    }
  }
  if (filter_ && config_.filter_action == FilterAction::file) {
    filter_file_fd_ =
        ::open(config_.filter_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (filter_file_fd_ < 0) {
      spdlog::error("filter_file {}: cannot open: {} (filtered events are only counted)",
                    config_.filter_file, std::strerror(errno));
    }
  }
}

Pipeline::~Pipeline() {
  request_stop();
  join();
  ::close(finished_fd_);
  if (filter_file_fd_ >= 0) ::close(filter_file_fd_);
}

void Pipeline::start() {
  // Large buffers (record and document batches, the socket's receive slots) get their own
  // mappings, so what a burst grew is returned to the system when it is let go; glibc would
  // otherwise raise this threshold to the largest block ever freed and keep such blocks in its
  // arenas. Growing a mapped block is an mremap, not a copy.
  ::mallopt(M_MMAP_THRESHOLD, static_cast<int>(kLargeBlockBytes));
  // spdlog's logger registry is made on first use; make it here, before the threads that log,
  // rather than in whichever of them logs first (a race TSan reports in the uninstrumented
  // library).
  spdlog::default_logger_raw();
  shipper_ = std::thread([this] { shipper_loop(); });
  correlator_ = std::thread([this] { correlator_loop(); });
  reader_ = std::thread([this] { reader_loop(); });
  // Names for top -H, perf and /proc/PID/task/*/comm (at most 15 characters).
  ::pthread_setname_np(shipper_.native_handle(), "aurelay-ship");
  ::pthread_setname_np(correlator_.native_handle(), "aurelay-correl");
  ::pthread_setname_np(reader_.native_handle(), "aurelay-reader");
}

void Pipeline::request_stop() {
  stop_requested_.store(true, std::memory_order_release);
  records_free_.notify();
}

void Pipeline::join() {
  for (std::thread* thread : {&reader_, &correlator_, &shipper_})
    if (thread->joinable()) thread->join();
}

std::uint64_t Pipeline::heartbeat() const {
  return reader_beats_.load(std::memory_order_relaxed) +
         correlator_beats_.load(std::memory_order_relaxed) +
         shipper_beats_.load(std::memory_order_relaxed);
}

std::string Pipeline::source_error() const {
  return reader_done_.load(std::memory_order_acquire) ? source_error_ : std::string();
}

// ---------------------------------------------------------------- reader thread

void Pipeline::reader_loop() {
  correlate::RecordBatch overflow;  // queue_full_action=drop reads into this and discards it
  RateLimitedLog full_warning;
  RateLimitedLog enobufs_warning;
  std::uint64_t enobufs_warned = 0;
  bool intake_stopped = false;
  // Empty batches the reader holds: one that came back empty from the source, and those it
  // took out of the free ring to let their buffers go when the input went quiet. The reader
  // only consumes from the free ring (it has exactly one producer, the correlator).
  std::vector<correlate::RecordBatch*> held;
  held.reserve(config_.record_batches);
  std::optional<correlate::ProcessContexts> contexts;
  if (config_.process_context) contexts.emplace(config_.contexts, &metrics_);
  while (true) {
    reader_beats_.fetch_add(1, std::memory_order_relaxed);
    if (!intake_stopped && stop_requested_.load(std::memory_order_acquire)) {
      // Drain what the source already holds, then end.
      source_->stop_intake();
      intake_stopped = true;
    }
    correlate::RecordBatch* batch = nullptr;
    if (!held.empty()) {
      batch = held.back();
      held.pop_back();
    } else if (!free_records_.try_pop(batch) &&
               record_batch_pool_.size() < config_.record_batches) {
      record_batch_pool_.push_back(std::make_unique<correlate::RecordBatch>());
      batch = record_batch_pool_.back().get();
    }
    if (batch == nullptr) {
      // Every batch is queued for the correlator: the ring is full.
      // Dropping always warns; waiting only on a live source (a replay outruns the correlator).
      const bool drops = config_.queue_full_action == QueueFullAction::drop;
      if (drops || config_.warn_when_ring_full)
        full_warning.warn(drops ? "record ring full: correlator is behind (dropping records)"
                                : "record ring full: correlator is behind (reading paused)");
      if (config_.queue_full_action == QueueFullAction::block) {
        increment(metrics_.ring_full_waits);
        records_ready_.notify();  // a replay may not have woken the correlator yet
        records_free_.wait_until([this] { return !free_records_.empty(); },
                                 std::chrono::milliseconds(kReaderWaitMs));
        continue;
      }
      overflow.clear();
      SourceStatus status = source_->read(overflow, config_.max_records_per_batch, 0);
      increment(metrics_.ring_full_dropped, overflow.size());
      if (status == SourceStatus::end || status == SourceStatus::failed) break;
      continue;
    }
    SourceStatus status =
        source_->read(*batch, config_.max_records_per_batch, intake_stopped ? 0 : kReaderWaitMs);
    const std::uint64_t enobufs = value_of(source_->stats().receive_enobufs);
    if (enobufs > enobufs_warned) {
      enobufs_warning.warn(
          fmt::format("audit socket overrun (ENOBUFS): the kernel dropped records ({} overruns in "
                      "all; raise receive_buffer_bytes)",
                      enobufs));
      enobufs_warned = enobufs;
    }
    if (!batch->empty()) {
      // Before a short-lived process is gone: looked up as soon as its record is read.
      if (contexts) contexts->annotate(*batch, wall_clock_ms());
      full_records_.push_within_capacity(batch);
      increment(metrics_.record_batches_handed_over);
      std::int64_t depth = static_cast<std::int64_t>(full_records_.size());
      set(metrics_.ring_depth, depth);
      if (depth > value_of(metrics_.ring_max_depth)) set(metrics_.ring_max_depth, depth);
      // A replay wakes the correlator once a few batches are queued (or the input paused):
      // one thread switch per batch would cost more than the batch on a single core.
      if (config_.live || static_cast<std::size_t>(depth) >= record_wake_batches_ ||
          status != SourceStatus::records)
        records_ready_.notify();
    } else {
      held.push_back(batch);
    }
    if (status == SourceStatus::idle) {
      // Quiet: what a burst grew is given back (the next burst grows it again).
      correlate::RecordBatch* returned = nullptr;
      while (free_records_.try_pop(returned)) held.push_back(returned);
      for (correlate::RecordBatch* idle : held)
        if (idle->byte_capacity() > kKeepBatchBytes) idle->release();
      records_ready_.notify();
    }
    if (status == SourceStatus::end) break;
    if (status == SourceStatus::failed) {
      source_error_ = source_->error();
      break;
    }
  }
  reader_done_.store(true, std::memory_order_release);
  records_ready_.notify();
}

// ---------------------------------------------------------------- correlator thread

DocumentBatch* Pipeline::acquire_document_batch() {
  DocumentBatch* batch = nullptr;
  if (free_documents_.try_pop(batch)) return batch;
  if (!held_documents_.empty()) {
    batch = held_documents_.back();
    held_documents_.pop_back();
    return batch;
  }
  if (document_batch_pool_.size() < config_.document_batches) {
    document_batch_pool_.push_back(std::make_unique<DocumentBatch>());
    return document_batch_pool_.back().get();
  }
  wake_shipper();  // a replay may not have woken it yet
  while (batch == nullptr && !free_documents_.try_pop(batch)) {
    // The shipper holds every batch: wait for it (backpressure towards the reader).
    correlator_beats_.fetch_add(1, std::memory_order_relaxed);
    documents_free_.wait_until([this] { return !free_documents_.empty(); }, config_.idle_tick);
  }
  return batch;
}

void Pipeline::release_idle_document_batches() {
  DocumentBatch* returned = nullptr;
  while (free_documents_.try_pop(returned)) held_documents_.push_back(returned);
  for (DocumentBatch* idle : held_documents_)
    if (idle->byte_capacity() > kKeepBatchBytes) idle->release();
  if (current_documents_->empty() && current_documents_->byte_capacity() > kKeepBatchBytes)
    current_documents_->release();
}

void Pipeline::wake_shipper() {
  documents_ready_.notify();
  sink_->wakeup();
}

void Pipeline::hand_over_documents(bool wake_now) {
  if (current_documents_->empty()) return;
  increment(documents_handed_over_, current_documents_->count());
  full_documents_.push_within_capacity(current_documents_);
  if (wake_now || full_documents_.size() >= document_wake_batches_) wake_shipper();
  current_documents_ = acquire_document_batch();
}

void Pipeline::process_record_batch(correlate::RecordBatch& batch,
                                    correlate::EventAssembler& assembler, Clock::time_point now) {
  correlate::RecordView record;
  std::uint64_t parsed = 0;
  std::uint64_t first_serial = 0;
  std::uint64_t last_serial = 0;
  std::uint64_t errors = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::uint32_t type = batch.type(i);
    std::string_view text = batch.text(i);
    correlate::ParseStatus status = type == correlate::RecordBatch::kLogLine
                                        ? correlate::parse_log_line(text, record)
                                        : correlate::parse_netlink_payload(type, text, record);
    if (status == correlate::ParseStatus::empty) continue;
    if (status != correlate::ParseStatus::ok) {
      ++errors;
      parse_warning_.warn(RateLimitedLog::steady_ms(now),
                          fmt::format("malformed audit record ({}), skipped: {:.200}",
                                      correlate::to_string(status), text));
      continue;
    }
    ++parsed;
    if (first_serial == 0) first_serial = record.key.serial;
    last_serial = record.key.serial;
    record.context = batch.context(i);
    assembler.add(record, now);
  }
  increment(metrics_.records_parsed, parsed);
  if (errors != 0) increment(metrics_.parse_errors, errors);
  if (last_serial != 0) {
    // The restart gap (collector/restart_gap.h) compares these across runs.
    if (value_of(metrics_.first_serial) == 0)
      set(metrics_.first_serial, static_cast<std::int64_t>(first_serial));
    set(metrics_.last_serial, static_cast<std::int64_t>(last_serial));
  }
}

namespace {

// The value of the record field `name` ("" when absent), read with the record parser's splitter.
std::string_view field_value(std::string_view body, std::string_view name,
                             std::vector<correlate::Field>& fields) {
  fields.clear();
  const std::size_t own = correlate::split_fields(body, fields);
  for (std::size_t i = 0; i < own; ++i)
    if (fields[i].key == name) return fields[i].value;
  return {};
}

}  // namespace

void Pipeline::note_rule_deletion(const correlate::Event& event) {
  const std::size_t change = event.find(correlate::kTypeConfigChange);
  if (change == event.record_count()) return;
  std::vector<correlate::Field> fields;  // only for the rare CONFIG_CHANGE events
  const std::string_view body = event.record_body(change);
  if (field_value(body, "op", fields) != "remove_rule") return;
  std::string who = "auid=" + std::string(field_value(body, "auid", fields));
  if (const std::size_t syscall = event.find(correlate::kTypeSyscall);
      syscall != event.record_count()) {
    const std::string_view call = event.record_body(syscall);
    who += " pid=" + std::string(field_value(call, "pid", fields));
    who += " exe=" + std::string(field_value(call, "exe", fields));
  }
  {
    std::lock_guard lock(rule_deletion_mutex_);
    last_rule_deletion_ = std::move(who);
  }
  rule_deletions_seen_.fetch_add(1, std::memory_order_release);
}

bool Pipeline::filtered(const correlate::Event& event) {
  switch (filter_->match(event)) {
    case correlate::FilterMatch::none:
      return false;
    case correlate::FilterMatch::key:
      increment(metrics_.events_filtered_key);
      break;
    case correlate::FilterMatch::syscall:
      increment(metrics_.events_filtered_syscall);
      break;
    case correlate::FilterMatch::exe:
      increment(metrics_.events_filtered_exe);
      break;
    case correlate::FilterMatch::uid:
      increment(metrics_.events_filtered_uid);
      break;
  }
  if (filter_file_fd_ >= 0) {
    encoder_->encode(event, filtered_documents_);
    if (filtered_documents_.byte_size() >= config_.max_document_batch_bytes)
      write_filtered_documents();
  }
  return true;
}

void Pipeline::write_filtered_documents() {
  if (filtered_documents_.empty()) return;
  if (!write_all(filter_file_fd_, filtered_documents_.data())) {
    filter_file_warning_.warn(fmt::format("filter_file {}: {} document(s) not written: {}",
                                          config_.filter_file, filtered_documents_.count(),
                                          std::strerror(errno)));
  }
  filtered_documents_.clear();
}

bool Pipeline::request_log_rotate(auditlog::SignalSender sender) {
  if (!audit_log_) return false;
  audit_log_->request_rotate(sender);
  records_ready_.notify();
  return true;
}

bool Pipeline::request_log_resume(auditlog::SignalSender sender) {
  if (!audit_log_) return false;
  audit_log_->request_resume(sender);
  records_ready_.notify();
  return true;
}

void Pipeline::set_stopped_by(auditlog::SignalSender sender) {
  std::lock_guard lock(stopped_by_mutex_);
  stopped_by_ = sender;
}

std::string Pipeline::last_rule_deletion() const {
  std::lock_guard lock(rule_deletion_mutex_);
  return last_rule_deletion_;
}

void Pipeline::correlator_loop() {
  current_documents_ = acquire_document_batch();
  // When the first document of the current batch was encoded: a batch leaves when full or once
  // it is document_linger old, so a storm moves in a few large batches rather than one per
  // wake-up of this thread.
  Clock::time_point batch_started{};
  Clock::time_point last_hand_over{};  // when documents last went to the shipper
  correlate::EventAssembler assembler(
      config_.assembler,
      [&](const correlate::Event& event) {
        note_rule_deletion(event);
        if (filter_ && filtered(event)) return;
        encoder_->encode(event, *current_documents_);
        if (current_documents_->count() == 1) batch_started = Clock::now();
        if (current_documents_->count() >= config_.max_documents_per_batch ||
            current_documents_->byte_size() >= config_.max_document_batch_bytes) {
          hand_over_documents(config_.live);
          last_hand_over = Clock::now();
        }
      },
      &metrics_);
  bool busy_since_trim = false;    // records arrived since the last malloc_trim
  Clock::time_point idle_since{};  // when the correlator last found nothing to do
  // Live input: documents go to an idle shipper as soon as the correlator has caught up,
  // unless the last hand-over was less than half a document_linger ago: a quiet host ships each
  // event at once, a busy one (events closer than that) fills batches for up to
  // document_linger, and a storm moves in few large batches. A replay only lingers.
  const auto early_spacing = config_.document_linger / 2;
  auto shipper_takes_documents_now = [this] {
    return shipper_idle_.load() && full_documents_.empty();
  };
  auto hand_over = [&] {
    hand_over_documents(true);
    last_hand_over = Clock::now();
  };
  auto may_hand_over_early = [&](Clock::time_point now) {
    return config_.live && now - last_hand_over >= early_spacing;
  };
  auto hand_over_when_due = [&](Clock::time_point now, bool caught_up) {
    if (current_documents_->empty()) return;
    if (now - batch_started >= config_.document_linger ||
        (caught_up && may_hand_over_early(now) && shipper_takes_documents_now()))
      hand_over();
  };
  while (true) {
    correlator_beats_.fetch_add(1, std::memory_order_relaxed);
    correlate::RecordBatch* batch = nullptr;
    if (full_records_.try_pop(batch)) {
      Clock::time_point now = Clock::now();
      idle_since = {};
      if (audit_log_) audit_log_->write(*batch);  // before correlation: nothing delays it
      process_record_batch(*batch, assembler, now);
      recycle(*batch);
      free_records_.push_within_capacity(batch);
      busy_since_trim = true;
      // A reader blocked on a full ring is woken once 3/4 of it is free, not per batch.
      if (free_records_.size() >= record_wake_batches_) records_free_.notify();
      const std::size_t queued = full_records_.size();
      set(metrics_.ring_depth, static_cast<std::int64_t>(queued));
      assembler.expire(now);
      hand_over_when_due(now, queued == 0);
      continue;
    }
    if (reader_done_.load(std::memory_order_acquire) && full_records_.empty()) break;
    // Idle: complete timed-out events, hand over what is due, sleep until news or the next due.
    Clock::time_point now = Clock::now();
    if (audit_log_) audit_log_->tick();
    write_filtered_documents();
    assembler.expire(now);
    hand_over_when_due(now, true);
    if (!full_documents_.empty()) wake_shipper();  // a replay's last batches
    auto wait = config_.idle_tick;
    const bool early_allowed = may_hand_over_early(now);
    if (!current_documents_->empty()) {
      Clock::time_point due = batch_started + config_.document_linger;
      if (config_.live && !early_allowed) due = std::min(due, last_hand_over + early_spacing);
      wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(due - now),
                        std::chrono::milliseconds(1), config_.idle_tick);
    }
    if (busy_since_trim && current_documents_->empty()) {
      // After a burst, once idle: give the heap's free pages back. Busy or idle, this runs at
      // most once per quiet spell.
      if (idle_since == Clock::time_point{}) idle_since = now;
      if (now - idle_since >= kTrimAfterIdle) {
        release_idle_document_batches();
        encoder_->release_idle_memory();
        ::malloc_trim(0);
        busy_since_trim = false;
        idle_since = {};
      }
    }
    increment(metrics_.correlator_waits);
    // Holding documents (live): the shipper wakes this thread when it goes idle. Announced
    // before the shipper's state is checked, so one of the two sees the other.
    const bool pending = early_allowed && !current_documents_->empty();
    documents_pending_.store(pending);
    records_ready_.wait_until(
        [&] {
          return !full_records_.empty() || reader_done_.load(std::memory_order_acquire) ||
                 (pending && shipper_takes_documents_now());
        },
        wait);
  }
  assembler.flush();
  hand_over_documents(true);
  write_filtered_documents();
  if (audit_log_) {
    std::lock_guard lock(stopped_by_mutex_);
    audit_log_->close(stopped_by_);
  }
  correlator_done_.store(true, std::memory_order_release);
  documents_ready_.notify();
  sink_->wakeup();
}

// ---------------------------------------------------------------- shipper thread

void Pipeline::publish_sink_metrics(bool force) {
  // Sink statistics can be costly (latency percentiles): publish them a few times a second.
  Clock::time_point now = Clock::now();
  if (!force && now - last_sink_publish_ < kSinkPublishInterval) return;
  last_sink_publish_ = now;
  sink_->stats();  // brings the sink's gauges (in metrics_: the daemon handed it) up to date
  // Documents encoded and not yet with the destination: in the ring to the shipper, and in the
  // sink's memory.
  const std::uint64_t in_ring = value_of(documents_handed_over_) - value_of(documents_taken_);
  set(metrics_.output_queued_documents,
      static_cast<std::int64_t>(in_ring + sink_->queued_documents()));
}

void Pipeline::shipper_loop() {
  RateLimitedLog failure_warning;
  while (true) {
    shipper_beats_.fetch_add(1, std::memory_order_relaxed);
    if (reopen_requested_.exchange(false, std::memory_order_acq_rel)) sink_->reopen();
    DocumentBatch* batch = nullptr;
    if (full_documents_.try_pop(batch)) {
      increment(documents_taken_, batch->count());
      // A sink that cannot take the batch is retried until it can: the correlator (and, with
      // queue_full_action=block, the reader) waits meanwhile. Only a stop ends the retries.
      while (sink_->write(*batch) != output::SinkStatus::ok) {
        failure_warning.warn("output failed, retrying: " + sink_->last_error());
        if (stop_requested_.load(std::memory_order_acquire)) {
          increment(metrics_.documents_dropped_output, batch->count());
          spdlog::error("shutting down with output failing: {} documents lost", batch->count());
          break;
        }
        // The counters keep moving while the output fails (they say why).
        publish_sink_metrics();
        std::this_thread::sleep_for(kSinkRetryDelay);
      }
      publish_sink_metrics();
      recycle(*batch);
      free_documents_.push_within_capacity(batch);
      // A correlator waiting for a free batch is woken once 3/4 of them are free.
      if (free_documents_.size() >= document_wake_batches_) documents_free_.notify();
      continue;
    }
    if (correlator_done_.load(std::memory_order_acquire) && full_documents_.empty()) break;
    // Idle: a correlator holding documents for want of an idle shipper hands them over now.
    shipper_idle_.store(true);
    if (documents_pending_.exchange(false)) records_ready_.notify();
    if (sink_->has_own_wait()) {
      sink_->poll(static_cast<int>(config_.idle_tick.count()));
      shipper_idle_.store(false);
      publish_sink_metrics();
    } else {
      documents_ready_.wait_until(
          [this] {
            return !full_documents_.empty() || correlator_done_.load(std::memory_order_acquire);
          },
          config_.idle_tick);
      shipper_idle_.store(false);
    }
  }
  if (!sink_->flush(static_cast<int>(config_.shutdown_flush.count())))
    spdlog::error("output not fully flushed at shutdown: {}",
                  sink_->last_error().empty() ? std::string_view("the output gave no reason")
                                              : std::string_view(sink_->last_error()));
  publish_sink_metrics(true);
  shipper_done_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  if (::write(finished_fd_, &one, sizeof(one)) != sizeof(one))
    spdlog::debug("could not signal the end of the pipeline");
}

}  // namespace aurelay::collector
