#include "output/delivery_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace aurelay::output {

namespace {

RetryPolicy make_retry_policy(const DeliveryConfig& config, RetryPolicy::RandomSource random) {
  if (random) return {config.retry_base_ms, config.retry_max_ms, std::move(random)};
  return {config.retry_base_ms, config.retry_max_ms};
}

std::string seconds_text(std::int64_t ms) { return std::to_string((ms + 500) / 1000) + " s"; }

}  // namespace

DeliveryEngine::DeliveryEngine(DeliveryConfig config, std::unique_ptr<Transport> transport,
                               Clock& clock, RetryPolicy::RandomSource random, OutputStats* stats)
    : Sink(stats),
      config_(std::move(config)),
      transport_(std::move(transport)),
      clock_(clock),
      retry_policy_(make_retry_policy(config_, std::move(random))),
      dead_letter_(config_.dead_letter_file) {
  transport_->attach_stats(counters());
}

DeliveryEngine::~DeliveryEngine() {
  if (opened_) spill_leftovers();
}

Status DeliveryEngine::open() {
  if (opened_) return {};
  if (config_.batch_max_events == 0) config_.batch_max_events = 1;
  if (config_.batch_max_bytes == 0) config_.batch_max_bytes = 1;
  if (config_.one_document_per_send) config_.batch_max_events = 1;
  Status status = transport_->open();
  if (status) status = open_spool();
  if (!status) {
    last_error_ = status.error();
    return status;
  }
  opened_ = true;
  return {};
}

// The spool, when configured, indexing what a previous run left (it is sent first).
Status DeliveryEngine::open_spool() {
  if (config_.spool_dir.empty()) return {};
  Result<std::unique_ptr<Spool>> spool =
      open_sink_spool(config_.name, {.dir = config_.spool_dir,
                                     .max_bytes = config_.spool_max_bytes,
                                     .segment_max_bytes = config_.spool_segment_bytes,
                                     .full_action = config_.spool_full_action,
                                     .fsync = config_.spool_fsync});
  if (!spool) return fail(spool.error());
  spool_ = std::move(spool).value();
  return {};
}

std::uint64_t DeliveryEngine::memory_documents() const {
  return open_.count + ready_documents_ + retry_documents_;
}

bool DeliveryEngine::idle() const {
  return open_.count == 0 && ready_.empty() && retry_.empty() &&
         transport_->batches_in_flight() == 0 && (spool_ == nullptr || spool_->empty());
}

void DeliveryEngine::reopen() {
  dead_letter_.reopen();
  transport_->reopen();
}

// ------------------------------------------------------------------------------ batching

SinkStatus DeliveryEngine::write(const DocumentBatch& batch) {
  if (!opened_) {
    last_error_ = config_.name + ": write before open";
    return SinkStatus::failed;
  }
  add_documents(batch);
  if (open_.count >= config_.batch_max_events || open_.ndjson.size() >= config_.batch_max_bytes) {
    seal_open();
  }
  // The batch is taken: queued, spooled, or dropped and counted where it happens. Reporting
  // failure here would make the caller write the same documents again.
  return SinkStatus::ok;
}

void DeliveryEngine::add_documents(const DocumentBatch& batch) {
  const std::size_t count = batch.count();
  std::size_t i = 0;
  while (i < count) {
    if (open_.count == 0) {
      open_since_ms_ = now_ms();
      open_.oldest_ms = batch.oldest_event_ms();
    } else if (batch.oldest_event_ms() != 0 &&
               (open_.oldest_ms == 0 || batch.oldest_event_ms() < open_.oldest_ms)) {
      open_.oldest_ms = batch.oldest_event_ms();
    }
    // Fast path: the whole batch fits the open one.
    if (i == 0 && open_.count + count <= config_.batch_max_events &&
        open_.ndjson.size() + batch.byte_size() <= config_.batch_max_bytes) {
      open_.ndjson.append(batch.data());
      open_.count += static_cast<std::uint32_t>(count);
      return;
    }
    std::string_view document = batch.document(i);
    if (open_.count > 0 && (open_.count + 1 > config_.batch_max_events ||
                            open_.ndjson.size() + document.size() + 1 > config_.batch_max_bytes)) {
      seal_open();
      continue;
    }
    open_.ndjson.append(document);
    open_.ndjson.push_back('\n');
    open_.count += 1;
    ++i;
    if (open_.count >= config_.batch_max_events) seal_open();
  }
}

void DeliveryEngine::seal_open() {
  if (open_.count == 0) return;
  OutgoingBatch sealed;
  std::swap(sealed, open_);
  open_.ndjson.reserve(std::min<std::size_t>(sealed.ndjson.capacity(), config_.batch_max_bytes));
  sealed.seq = next_seq_++;
  enqueue_sealed(std::move(sealed));
}

// Failing, stalled or out of memory: the batch goes to the spool; without a spool a full memory
// drops it (counted).
void DeliveryEngine::enqueue_sealed(OutgoingBatch&& batch) {
  const bool outage = consecutive_failures_ > 0 || !stall_reason_.empty();
  const bool memory_full = memory_documents() + batch.count > config_.memory_max_documents;
  if (spool_ != nullptr && (outage || memory_full)) {
    // Kept, or dropped because the spool is full (counted): done. On an I/O error keep it in
    // memory rather than lose it.
    if (spool_batch(batch) != SpoolAppendResult::io_error) return;
  } else if (spool_ == nullptr && memory_full) {
    count_dropped(counters().documents_dropped_queue_full, batch.count);
    last_error_ = config_.name + ": memory queue full and no spool: documents dropped";
    spool_log_.warn(now_ms(), last_error_);
    return;
  }
  ready_documents_ += batch.count;
  ready_.push_back(std::move(batch));
}

// Writes a batch to the spool. Not written: spool full with drop_newest (counted as dropped) or
// an I/O error (counted, last_error set).
SpoolAppendResult DeliveryEngine::spool_batch(const OutgoingBatch& batch) {
  SpoolWrite written = output::spool_batch(*spool_, batch.count, batch.oldest_ms, batch.ndjson);
  increment(counters().documents_spooled, written.spooled);
  count_dropped(counters().documents_dropped_spool_full, written.dropped_spool_full);
  if (!written.problem.empty()) {
    last_error_ = config_.name + ": " + written.problem;
    spool_log_.warn(now_ms(), last_error_);
  }
  return written.result;
}

void DeliveryEngine::ack_spooled(const OutgoingBatch& batch) {
  if (batch.spool_segment == 0) return;
  spool_->ack(batch.spool_segment);
}

bool DeliveryEngine::next_from_spool(OutgoingBatch& out) {
  if (spool_ == nullptr) return false;
  SpoolRecord record;
  while (spool_->read_next(record)) {
    std::optional<SpooledBatch> spooled = read_spooled_batch(std::move(record.payload));
    if (!spooled) {
      spool_->ack(record.segment_id);
      continue;
    }
    // A record whose text does not hold `items` lines is sent for what it holds.
    const auto lines = static_cast<std::uint32_t>(
        std::count(spooled->ndjson.begin(), spooled->ndjson.end(), '\n'));
    if (lines != record.items) {
      spool_log_.warn(now_ms(), config_.name + ": a spool record holds " + std::to_string(lines) +
                                    " documents, not the " + std::to_string(record.items) +
                                    " its frame says");
    }
    if (lines == 0) {
      spool_->ack(record.segment_id);
      continue;
    }
    out.oldest_ms = spooled->oldest_ms;
    out.ndjson = std::move(spooled->ndjson);
    out.count = lines;
    out.spool_segment = record.segment_id;
    out.seq = next_seq_++;
    increment(counters().documents_unspooled, out.count);
    return true;
  }
  return false;
}

bool DeliveryEngine::next_batch(OutgoingBatch& out) {
  if (!retry_.empty()) {
    out = std::move(retry_.front());
    retry_.pop_front();
    retry_documents_ -= out.count;
    return true;
  }
  auto from_ready = [&]() {
    if (ready_.empty()) return false;
    out = std::move(ready_.front());
    ready_.pop_front();
    ready_documents_ -= out.count;
    return true;
  };
  // Spool and live batches take turns, the spool first (what a previous run left goes first).
  const bool spool_first = spool_turn_;
  spool_turn_ = !spool_turn_;
  if (spool_first) return next_from_spool(out) || from_ready();
  return from_ready() || next_from_spool(out);
}

// Puts the two halves of a batch of several documents first in line to be sent. A batch from
// the spool is replaced there by its halves (durable before the original is let go); when the
// spool cannot take them, the halves wait in memory and the original stays unacked. False when
// the batch holds fewer than two documents (nothing done).
bool DeliveryEngine::split_in_halves(OutgoingBatch&& batch) {
  if (batch.count < 2) return false;
  const std::size_t half = batch.count / 2;
  std::size_t cut = 0;
  for (std::size_t k = 0; k < half; ++k) cut = batch.ndjson.find('\n', cut) + 1;
  OutgoingBatch first;
  OutgoingBatch second;
  first.ndjson = batch.ndjson.substr(0, cut);
  second.ndjson = batch.ndjson.substr(cut);
  first.count = static_cast<std::uint32_t>(half);
  second.count = batch.count - first.count;
  first.oldest_ms = second.oldest_ms = batch.oldest_ms;
  if (batch.spool_segment != 0) {
    const bool kept = spool_batch(first) == SpoolAppendResult::appended &&
                      spool_batch(second) == SpoolAppendResult::appended;
    if (kept) {
      ack_spooled(batch);
      return true;
    }
    // The halves wait in memory; the original record stays on disk, unacked.
  }
  first.seq = batch.seq;
  second.seq = batch.seq;
  // Same seq: each insert goes after the equal ones, so first stays before second.
  requeue_front(std::move(first));
  requeue_front(std::move(second));
  return true;
}

void DeliveryEngine::requeue_front(OutgoingBatch&& batch) {
  retry_documents_ += batch.count;
  auto at = std::upper_bound(retry_.begin(), retry_.end(), batch.seq,
                             [](std::uint64_t seq, const OutgoingBatch& b) { return seq < b.seq; });
  retry_.insert(at, std::move(batch));
}

// ------------------------------------------------------------------------------ sending

bool DeliveryEngine::work_waiting() const {
  return !retry_.empty() || !ready_.empty() || (spool_ != nullptr && spool_->has_unread());
}

void DeliveryEngine::start_sending() {
  if (now_ms() < backoff_until_ms_ || !stall_reason_.empty()) return;
  if (!work_waiting()) {
    // A spool whose records are all read still wants one more read: it seals its active
    // segment then, which can go once its records are acked.
    OutgoingBatch late;
    if (spool_ != nullptr && !spool_->empty() && next_from_spool(late)) {
      requeue_front(std::move(late));
    }
    if (!work_waiting()) return;
  }
  if (!transport_->connect(*this)) return;
  // While failing, probe with one send at a time.
  const bool probing = consecutive_failures_ > 0;
  while (transport_->can_take_batch(probing)) {
    OutgoingBatch batch;
    if (!next_batch(batch)) return;
    // One document per send; a batch of several can still come from a spool written with
    // another setting: split it until each document goes alone.
    while (config_.one_document_per_send && batch.count > 1) {
      if (!split_in_halves(std::move(batch)) || !next_batch(batch)) return;
    }
    transport_->send(std::move(batch), *this);
    if (consecutive_failures_ > 0 && !probing) return;  // the send failed at once
  }
}

// A connection is free, no sealed batch waits ahead and the engine is not backing off: a batch
// sealed now is sent now.
bool DeliveryEngine::connection_free() const {
  return consecutive_failures_ == 0 && stall_reason_.empty() && ready_.empty() && retry_.empty() &&
         transport_->can_take_batch(false);
}

// Seals the open batch when it is due (a free connection, or batch_flush_ms old: it filled while
// every connection was busy), lets the transport move on for up to `wait_ms`, and starts what
// can start.
void DeliveryEngine::move_along(int wait_ms) {
  if (open_.count > 0 &&
      (connection_free() || now_ms() - open_since_ms_ >= config_.batch_flush_ms)) {
    seal_open();
  }
  start_sending();
  transport_->progress(wait_ms, *this);
  check_stall();
  if (open_.count > 0 &&
      (connection_free() || now_ms() - open_since_ms_ >= config_.batch_flush_ms)) {
    seal_open();
  }
  start_sending();
}

// How long poll() may block: until the destination answers or a wakeup, the end of the backoff,
// or the open batch's deadline, at most `max_wait_ms`.
std::int64_t DeliveryEngine::wait_ms(int max_wait_ms) const {
  std::int64_t wait = std::max(0, max_wait_ms);
  const std::int64_t now = now_ms();
  if (work_waiting() && backoff_until_ms_ > now) {
    wait = std::min(wait, backoff_until_ms_ - now);
  } else if (work_waiting() && stall_reason_.empty() && consecutive_failures_ == 0 &&
             transport_->can_take_batch(false)) {
    wait = 0;
  }
  if (open_.count > 0) {
    wait = std::min<std::int64_t>(
        wait, std::max<std::int64_t>(0, open_since_ms_ + config_.batch_flush_ms - now));
  }
  const std::int64_t oldest = transport_->oldest_unanswered_ms();
  if (oldest >= 0 && stall_reason_.empty()) {
    wait = std::min(wait, std::max<std::int64_t>(0, oldest + kStallWarningMs - now));
  }
  return wait;
}

void DeliveryEngine::poll(int max_wait_ms) {
  if (!opened_) return;
  move_along(0);
  std::int64_t wait = wait_ms(max_wait_ms);
  // With nothing in flight only the engine's own timers end the wait: the clock decides how long
  // that really is (a test's virtual clock jumps there at once).
  if (transport_->batches_in_flight() == 0) wait = clock_.idle_wait(wait);
  move_along(static_cast<int>(wait));
  if (spool_ != nullptr) spool_->sync();
}

// The transport is stalled while the destination says it blocks or an answer is overdue: new
// batches go to the spool and the cause is warned about; it resumes when the cause clears.
void DeliveryEngine::check_stall() {
  std::string reason = transport_->blocked_reason();
  const bool blocked = !reason.empty();
  const std::int64_t oldest = transport_->oldest_unanswered_ms();
  const std::int64_t waited = oldest >= 0 ? now_ms() - oldest : 0;
  if (!blocked && oldest >= 0 && waited >= kStallWarningMs) {
    reason = transport_->destination() + " has not answered for " + seconds_text(waited);
  }
  if (reason.empty()) {
    if (!stall_reason_.empty() && consecutive_failures_ == 0) {
      spdlog::info("{}: {} takes documents again (was: {})", config_.name,
                   transport_->destination(), stall_reason_);
    }
    stall_reason_.clear();
    stall_blocked_ = false;
    return;
  }
  if (stall_reason_.empty()) increment(counters().output_stalls);
  const bool newly_blocked = blocked && !stall_blocked_;
  stall_reason_ = reason;
  stall_blocked_ = blocked;
  last_problem_ = reason;
  const std::string warning = config_.name + ": " + reason + " (new documents go to " +
                              (spool_ != nullptr ? "the spool" : "memory") + " meanwhile)";
  // The destination's own word that it blocks is news even right after an overdue answer.
  if (newly_blocked) {
    spdlog::warn("{}", warning);
  } else {
    stall_log_.warn(now_ms(), warning);
  }
}

// ------------------------------------------------------------------------------ reports

void DeliveryEngine::note_answer() {
  if (consecutive_failures_ > 0) {
    spdlog::info("{}: {} answers again after {} failed attempt(s)", config_.name,
                 transport_->destination(), consecutive_failures_);
  }
  consecutive_failures_ = 0;
  backoff_until_ms_ = 0;
}

void DeliveryEngine::note_failure(const std::string& reason) {
  last_error_ = config_.name + ": " + reason;
  last_problem_ = reason;
  ++consecutive_failures_;
  const std::uint64_t delay = retry_policy_.delay_ms(consecutive_failures_);
  backoff_until_ms_ = now_ms() + static_cast<std::int64_t>(delay);
  retry_log_.warn(now_ms(), last_error_ + " (will retry, " + std::to_string(consecutive_failures_) +
                                " consecutive failure(s))");
}

void DeliveryEngine::delivered(OutgoingBatch&& batch) {
  increment(counters().documents_delivered, batch.count);
  increment(counters().batches_delivered);
  latency_.record(batch.oldest_ms, clock_.wall_ms());
  ack_spooled(batch);
  note_answer();
}

void DeliveryEngine::retry(OutgoingBatch&& batch, std::uint32_t delivered_documents,
                           const std::string& reason) {
  increment(counters().documents_delivered, delivered_documents);
  increment(counters().batches_retried);
  increment(counters().documents_retried, batch.count);
  note_failure(reason);
  // A fresh batch goes to the spool (durable, replayed in order); kept in memory only when the
  // spool cannot write. A batch from the spool waits in memory (it is still on disk).
  if (batch.spool_segment == 0 && spool_ != nullptr &&
      spool_batch(batch) != SpoolAppendResult::io_error) {
    return;
  }
  requeue_front(std::move(batch));
}

void DeliveryEngine::rejected(OutgoingBatch&& batch, const std::string& reason) {
  note_answer();
  if (batch.count > 1) {
    // Isolate the rejected documents: send each half again.
    increment(counters().rejected_splits);
    split_in_halves(std::move(batch));
    return;
  }
  increment(counters().documents_rejected, batch.count);
  last_error_ = config_.name + ": " + reason;
  reject_log_.warn(
      now_ms(), last_error_ + (dead_letter_.enabled() ? " (written to " + dead_letter_.path() + ")"
                                                      : std::string(" (dropped)")));
  if (dead_letter_.write(batch.ndjson, batch.count) && dead_letter_.enabled()) {
    increment(counters().documents_dead_lettered, batch.count);
  } else {
    if (dead_letter_.enabled()) {
      increment(counters().dead_letter_errors);
      reject_log_.warn(now_ms(), config_.name + ": " + dead_letter_.last_error());
    }
    count_dropped(counters().documents_dropped_rejected, batch.count);
  }
  ack_spooled(batch);
}

void DeliveryEngine::unavailable(const std::string& reason) { note_failure(reason); }

// ------------------------------------------------------------------------------ stop

bool DeliveryEngine::flush(int deadline_ms) {
  if (!opened_) return false;
  seal_open();
  const std::int64_t deadline = now_ms() + std::max(0, deadline_ms);
  while (!idle()) {
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    poll(static_cast<int>(std::min<std::int64_t>(left, 50)));
  }
  if (idle()) {
    transport_->close();
    return true;
  }
  last_error_ = unflushed_reason(deadline_ms);
  spill_leftovers();
  return false;
}

// Why a flush ended with work left: what was left where, and the last problem seen.
std::string DeliveryEngine::unflushed_reason(int deadline_ms) {
  const std::uint64_t spooled_before = spool_ != nullptr ? spool_->unread_items() : 0;
  std::string reason = config_.name + ": after " + std::to_string(deadline_ms) + " ms, " +
                       std::to_string(memory_documents()) + " document(s) in memory, " +
                       std::to_string(transport_->documents_in_flight()) + " in flight and " +
                       std::to_string(spooled_before) + " in the spool were not delivered";
  if (!stall_reason_.empty()) {
    reason += ": " + stall_reason_;
  } else if (consecutive_failures_ > 0 || !last_problem_.empty()) {
    reason += ": " + (last_problem_.empty() ? std::string("failing") : last_problem_);
  } else {
    reason += ": " + transport_->destination() + " did not take them in time";
  }
  reason += spool_ != nullptr ? " (kept in the spool for the next start)" : " (no spool: dropped)";
  return reason;
}

// Everything in memory or in flight goes to the spool (or is counted as dropped without one).
// Batches read from the spool stay there, unacked: the next start sends them again.
void DeliveryEngine::spill_leftovers() {
  seal_open();
  std::vector<OutgoingBatch> leftovers;
  increment(counters().documents_delivered, transport_->take_unfinished(leftovers));
  for (auto& batch : retry_) leftovers.push_back(std::move(batch));
  retry_.clear();
  retry_documents_ = 0;
  for (auto& batch : ready_) leftovers.push_back(std::move(batch));
  ready_.clear();
  ready_documents_ = 0;
  std::sort(leftovers.begin(), leftovers.end(),
            [](const OutgoingBatch& a, const OutgoingBatch& b) { return a.seq < b.seq; });
  std::uint64_t lost = 0;
  for (const OutgoingBatch& batch : leftovers) {
    if (batch.spool_segment != 0) {
      // Still on disk, unacked: back among the spool's documents.
      spool_documents_handed_back_ += batch.count;
      continue;
    }
    if (spool_ == nullptr) {
      lost += batch.count;
      count_dropped(counters().documents_dropped_output, batch.count, /*also_total=*/false);
      continue;
    }
    const SpoolAppendResult result = spool_batch(batch);
    if (result == SpoolAppendResult::dropped_newest) lost += batch.count;  // counted already
    if (result == SpoolAppendResult::io_error) {
      lost += batch.count;
      count_dropped(counters().documents_dropped_output, batch.count, /*also_total=*/false);
    }
  }
  if (lost > 0) {
    spdlog::warn("{}: {} document(s) could not be kept for the next start", config_.name, lost);
  }
  if (spool_ != nullptr) spool_->sync();
}

// ------------------------------------------------------------------------------ counters

void DeliveryEngine::count_dropped(Counter& reason, std::uint64_t documents, bool also_total) {
  increment(reason, documents);
  if (also_total) increment(counters().documents_dropped_output, documents);
}

std::uint64_t DeliveryEngine::queued_documents() const { return memory_documents(); }

void DeliveryEngine::refresh_gauges() {
  OutputStats& stats = counters();
  set(stats.output_batches_in_flight, static_cast<std::int64_t>(transport_->batches_in_flight()));
  set(stats.documents_in_flight, static_cast<std::int64_t>(transport_->documents_in_flight()));
  if (spool_ != nullptr) {
    const SpoolCounters& spool = spool_->counters();
    set(stats.spool_documents,
        static_cast<std::int64_t>(spool_->unread_items() + spool_documents_handed_back_));
    set(stats.spool_bytes, static_cast<std::int64_t>(spool.bytes));
    set(stats.spool_segments, static_cast<std::int64_t>(spool.segments));
    // The spool counts these itself (it is used alone too); they are its totals, so store them.
    stats.spool_corrupt_records.store(spool.corrupt_records, std::memory_order_relaxed);
    stats.spool_corrupt_bytes.store(spool.corrupt_bytes, std::memory_order_relaxed);
    stats.spool_write_errors.store(spool.write_errors, std::memory_order_relaxed);
  }
  set(stats.delivery_latency_p50_ms, static_cast<std::int64_t>(latency_.p50()));
  set(stats.delivery_latency_p99_ms, static_cast<std::int64_t>(latency_.p99()));
  transport_->refresh_gauges();
}

}  // namespace aurelay::output
