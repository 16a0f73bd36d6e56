#include "output/amqp_sink.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace aurelay::output {

// Turns the publisher's reports into resolutions of the window.
class AmqpSink::ConfirmHandler final : public AmqpPublisher::Handler {
 public:
  explicit ConfirmHandler(AmqpSink& sink) : sink_(sink) {}
  void on_ack(std::uint64_t tag, bool multiple) override {
    if (multiple)
      sink_.resolve_up_to(tag, true);
    else
      sink_.resolve(tag, true);
  }
  void on_nack(std::uint64_t tag, bool multiple) override {
    const std::uint64_t before = sink_.unresolved_;
    if (multiple)
      sink_.resolve_up_to(tag, false);
    else
      sink_.resolve(tag, false);
    sink_.counters_.nacked += before - sink_.unresolved_;
    failure = "broker " + sink_.broker_display(sink_.counters_.current_broker) +
              " nacked documents (basic.nack: it could not take them)";
  }
  void on_return(std::uint64_t tag, int reply_code, std::string_view reply_text) override {
    ++sink_.counters_.returned;
    if (tag >= sink_.first_tag_ && tag - sink_.first_tag_ < sink_.window_.size())
      sink_.window_[tag - sink_.first_tag_].returned = true;
    failure = "broker " + sink_.broker_display(sink_.counters_.current_broker) +
              " returned a document: " + std::to_string(reply_code) + " " +
              std::string(reply_text) + " (no queue is bound to exchange '" +
              sink_.config_.publisher.exchange + "' with routing key '" +
              sink_.config_.publisher.routing_key + "')";
  }
  std::string failure;

 private:
  AmqpSink& sink_;
};

AmqpSink::AmqpSink(AmqpSinkConfig config, Clock& clock)
    : config_(std::move(config)),
      publisher_(config_.publisher),
      clock_(clock),
      retry_policy_(config_.retry_base_ms, config_.retry_max_ms) {}

AmqpSink::AmqpSink(AmqpSinkConfig config, RetryPolicy::RandomSource random, Clock& clock)
    : config_(std::move(config)),
      publisher_(config_.publisher),
      clock_(clock),
      retry_policy_(config_.retry_base_ms, config_.retry_max_ms, std::move(random)) {}

AmqpSink::~AmqpSink() {
  if (opened_) spill_leftovers();
  publisher_.drop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status AmqpSink::open() {
  auto fail = [&](std::string message) -> Status {
    last_error_ = message;
    return aurelay::fail(std::move(message));
  };
  if (opened_) return {};
  Result<std::vector<AmqpEndpoint>> endpoints = parse_amqp_url_list(config_.urls);
  if (!endpoints) return fail("amqp sink: " + endpoints.error());
  endpoints_ = std::move(endpoints).value();
  if (config_.confirm_window == 0) config_.confirm_window = 1;
  if (config_.publisher.exchange.empty())
    return fail("amqp sink: no exchange (the default exchange cannot be declared)");
  if (!config_.spool_dir.empty()) {
    Result<std::unique_ptr<Spool>> spool =
        open_sink_spool("amqp sink", {.dir = config_.spool_dir,
                                      .max_bytes = config_.spool_max_bytes,
                                      .segment_max_bytes = config_.spool_segment_bytes,
                                      .full_action = config_.spool_full_action,
                                      .fsync = config_.spool_fsync});
    if (!spool) return fail(spool.error());
    spool_ = std::move(spool).value();
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return fail(std::string("amqp sink: eventfd: ") + std::strerror(errno));
  opened_ = true;
  return {};
}

std::string AmqpSink::broker_display(std::int64_t index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= endpoints_.size()) return {};
  return endpoints_[static_cast<std::size_t>(index)].display;
}

std::uint64_t AmqpSink::memory_documents() const { return ready_documents_ + retry_documents_; }

std::size_t AmqpSink::window_limit() const {
  // While failing, probe with one message until the broker acks again.
  return consecutive_failures_ > 0 ? 1 : config_.confirm_window;
}

bool AmqpSink::idle() const {
  return ready_.empty() && retry_.empty() && active_.empty() &&
         (spool_ == nullptr || spool_->empty());
}

void AmqpSink::wakeup() {
  if (wake_fd_ < 0) return;
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    // Already signalled (counter saturated) or closing: nothing to do.
  }
}

void AmqpSink::warn(const std::string& message) { warn_log_.warn(clock_.steady_ms(), message); }

SinkStatus AmqpSink::write(const DocumentBatch& batch) {
  if (!opened_) {
    last_error_ = "amqp sink: write before open";
    return SinkStatus::failed;
  }
  if (batch.empty()) return SinkStatus::ok;
  const std::uint64_t dropped_before = counters_.dropped_queue_full + counters_.dropped_spool_full;
  auto chunk = std::make_unique<Chunk>();
  chunk->ndjson = batch.data();
  chunk->count = static_cast<std::uint32_t>(batch.count());
  chunk->oldest_ms = batch.oldest_event_ms();
  chunk->seq = next_seq_++;
  enqueue(std::move(chunk));
  pump();
  if (counters_.dropped_queue_full + counters_.dropped_spool_full > dropped_before)
    return SinkStatus::failed;
  return SinkStatus::ok;
}

void AmqpSink::enqueue(std::unique_ptr<Chunk> chunk) {
  const bool failing = consecutive_failures_ > 0;
  const bool memory_full = memory_documents() + chunk->count > config_.memory_max_documents;
  if (spool_ != nullptr && (failing || memory_full)) {
    // Kept on disk, or dropped because the spool is full (counted). On an I/O error it stays in
    // memory rather than being lost.
    if (spool_chunk(*chunk) != SpoolAppendResult::io_error) return;
  } else if (spool_ == nullptr && memory_full) {
    counters_.dropped_queue_full += chunk->count;
    last_error_ = "amqp sink: memory queue full and no spool: documents dropped";
    warn(last_error_);
    return;
  }
  ready_documents_ += chunk->count;
  ready_.push_back(std::move(chunk));
}

SpoolAppendResult AmqpSink::spool_chunk(const Chunk& chunk) {
  SpoolWrite written = spool_batch(*spool_, chunk.count, chunk.oldest_ms, chunk.ndjson);
  counters_.spooled += written.spooled;
  counters_.dropped_spool_full += written.dropped_spool_full;
  if (!written.problem.empty()) {
    last_error_ = "amqp sink: " + written.problem;
    warn(last_error_);
  }
  return written.result;
}

void AmqpSink::requeue(std::unique_ptr<Chunk> chunk) {
  retry_documents_ += chunk->count;
  auto at = std::upper_bound(
      retry_.begin(), retry_.end(), chunk->seq,
      [](std::uint64_t seq, const std::unique_ptr<Chunk>& c) { return seq < c->seq; });
  retry_.insert(at, std::move(chunk));
}

bool AmqpSink::next_chunk() {
  std::unique_ptr<Chunk> chunk;
  auto from_retry = [&] {
    if (retry_.empty()) return false;
    chunk = std::move(retry_.front());
    retry_.pop_front();
    retry_documents_ -= chunk->count;
    return true;
  };
  auto from_spool = [&] {
    if (spool_ == nullptr) return false;
    SpoolRecord record;
    if (!spool_->read_next(record)) return false;
    chunk = std::make_unique<Chunk>();
    if (std::optional<SpooledBatch> spooled = read_spooled_batch(std::move(record.payload))) {
      chunk->oldest_ms = spooled->oldest_ms;
      chunk->ndjson = std::move(spooled->ndjson);
    }
    // A record whose text does not hold `items` lines is sent for what it holds.
    chunk->count =
        static_cast<std::uint32_t>(std::count(chunk->ndjson.begin(), chunk->ndjson.end(), '\n'));
    if (chunk->count != record.items)
      spdlog::warn(
          "amqp sink: a spool record holds {} documents, "
          "not the {} its frame says",
          chunk->count, record.items);
    chunk->spool_segment = record.segment_id;
    chunk->seq = next_seq_++;
    counters_.unspooled += chunk->count;
    return true;
  };
  auto from_ready = [&] {
    if (ready_.empty()) return false;
    chunk = std::move(ready_.front());
    ready_.pop_front();
    ready_documents_ -= chunk->count;
    return true;
  };
  bool taken = from_retry();
  if (!taken) {
    // Spool and live batches take turns, the spool first (what a previous run left goes first).
    const bool spool_first = spool_turn_;
    spool_turn_ = !spool_turn_;
    taken = spool_first ? (from_spool() || from_ready()) : (from_ready() || from_spool());
  }
  if (!taken) return false;
  if (chunk->count == 0) {
    if (chunk->spool_segment != 0) spool_->ack(chunk->spool_segment);
    return true;  // nothing to publish; the caller asks again
  }
  active_.push_back(std::move(chunk));
  publishing_ = active_.back().get();
  return true;
}

bool AmqpSink::ensure_connected() {
  if (publisher_.ready()) return true;
  if (clock_.steady_ms() < backoff_until_ms_) return false;
  const bool work = !ready_.empty() || !retry_.empty() || (spool_ && spool_->has_unread());
  if (!work) return false;
  const AmqpEndpoint& endpoint = endpoints_[broker_index_];
  const bool channel_only = publisher_.connection_open();
  if (Status connected = publisher_.connect(endpoint); !connected) {
    ++counters_.connect_failures;
    counters_.current_broker = -1;
    if (!publisher_.connection_open()) broker_index_ = (broker_index_ + 1) % endpoints_.size();
    note_failure("amqp sink: " + connected.error());
    return false;
  }
  if (!channel_only) {
    if (ever_connected_) ++counters_.reconnects;
    spdlog::info("amqp sink: connected to {}, publishing to exchange '{}' with routing key '{}'{}",
                 endpoint.display, config_.publisher.exchange, config_.publisher.routing_key,
                 consecutive_failures_ > 0
                     ? " (after " + std::to_string(consecutive_failures_) + " failed attempt(s))"
                     : std::string());
  }
  ever_connected_ = true;
  counters_.current_broker = static_cast<std::int64_t>(broker_index_);
  window_.clear();
  first_tag_ = publisher_.next_tag();
  unresolved_ = 0;
  return true;
}

void AmqpSink::publish_window() {
  while (publisher_.ready() && unresolved_ < window_limit()) {
    if (publishing_ == nullptr && !next_chunk()) return;
    if (publishing_ == nullptr) continue;  // an empty spool record was skipped
    Chunk& chunk = *publishing_;
    const std::size_t newline = chunk.ndjson.find('\n', chunk.cursor);
    const std::size_t end = newline == std::string::npos ? chunk.ndjson.size() : newline;
    std::string_view document(chunk.ndjson.data() + chunk.cursor, end - chunk.cursor);
    Result<std::uint64_t> published = publisher_.publish(document);
    if (!published) {
      fail_connection("amqp sink: " + published.error(), false);
      return;
    }
    const std::uint64_t tag = *published;
    if (window_.empty()) first_tag_ = tag;
    window_.push_back(Pending{publishing_, static_cast<std::uint32_t>(chunk.cursor),
                              static_cast<std::uint32_t>(document.size()), false, false});
    ++unresolved_;
    ++counters_.published;
    ++chunk.published;
    chunk.cursor = end + 1;
    if (chunk.published >= chunk.count) publishing_ = nullptr;
  }
}

void AmqpSink::resolve(std::uint64_t tag, bool acked) {
  if (tag < first_tag_ || tag - first_tag_ >= window_.size()) return;
  Pending& pending = window_[tag - first_tag_];
  if (pending.resolved) return;
  pending.resolved = true;
  --unresolved_;
  Chunk& chunk = *pending.chunk;
  if (acked && !pending.returned) {
    ++counters_.confirmed;
    if (consecutive_failures_ > 0) {
      spdlog::info("amqp sink: {} confirms again after {} failed attempt(s)",
                   broker_display(counters_.current_broker), consecutive_failures_);
      consecutive_failures_ = 0;
      backoff_until_ms_ = 0;
    }
  } else {
    chunk.failed.append(chunk.ndjson, pending.begin, pending.length);
    chunk.failed.push_back('\n');
    ++chunk.failed_count;
  }
  ++chunk.resolved;
  if (chunk.resolved >= chunk.count) complete(&chunk);
}

void AmqpSink::resolve_up_to(std::uint64_t tag, bool acked) {
  if (window_.empty() || tag < first_tag_) return;
  const std::uint64_t last = std::min<std::uint64_t>(tag, first_tag_ + window_.size() - 1);
  for (std::uint64_t t = first_tag_; t <= last; ++t) resolve(t, acked);
}

// Every document of `chunk` is acked or failed: it leaves the active list; failed ones are sent
// again (fresh ones through the spool when there is one, ones read from the spool from memory:
// their record stays on disk until they are acked).
void AmqpSink::complete(Chunk* chunk) {
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const std::unique_ptr<Chunk>& c) { return c.get() == chunk; });
  if (it == active_.end()) return;
  std::unique_ptr<Chunk> done = std::move(*it);
  active_.erase(it);
  if (done->failed_count == 0) {
    record_latency(done->oldest_ms);
    if (done->spool_segment != 0) spool_->ack(done->spool_segment);
    return;
  }
  auto again = std::make_unique<Chunk>();
  again->ndjson = std::move(done->failed);
  again->count = done->failed_count;
  again->oldest_ms = done->oldest_ms;
  again->seq = done->seq;
  again->spool_segment = done->spool_segment;
  counters_.retried += again->count;
  if (again->spool_segment == 0 && spool_ != nullptr &&
      spool_chunk(*again) != SpoolAppendResult::io_error) {
    return;
  }
  requeue(std::move(again));
}

void AmqpSink::trim_window() {
  while (!window_.empty() && window_.front().resolved) {
    window_.pop_front();
    ++first_tag_;
  }
}

void AmqpSink::note_failure(const std::string& reason) {
  last_error_ = reason;
  ++consecutive_failures_;
  const std::uint64_t delay = retry_policy_.delay_ms(consecutive_failures_);
  backoff_until_ms_ = clock_.steady_ms() + static_cast<std::int64_t>(delay);
  warn(reason + " (will retry, " + std::to_string(consecutive_failures_) +
       " consecutive failure(s))");
}

// The channel (or the whole connection) failed: every document not acked yet is failed and sent
// again later; the broker moves to the next one of the list when the connection is gone.
void AmqpSink::fail_connection(const std::string& reason, bool channel_only) {
  if (channel_only)
    ++counters_.channel_errors;
  else
    counters_.current_broker = -1;
  counters_.failed_unconfirmed += unresolved_;
  for (std::uint64_t i = 0; i < window_.size(); ++i) resolve(first_tag_ + i, false);
  window_.clear();
  unresolved_ = 0;
  // The chunk being published cannot complete above: it still has documents not published.
  if (publishing_ != nullptr) {
    Chunk& chunk = *publishing_;
    const std::uint32_t unpublished = chunk.count - chunk.published;
    if (chunk.cursor < chunk.ndjson.size()) chunk.failed.append(chunk.ndjson, chunk.cursor);
    chunk.failed_count += unpublished;
    chunk.resolved += unpublished;
    chunk.published = chunk.count;
    chunk.cursor = chunk.ndjson.size();
    publishing_ = nullptr;
    if (chunk.resolved >= chunk.count) complete(&chunk);
  }
  if (!channel_only && !publisher_.connection_open())
    broker_index_ = (broker_index_ + 1) % endpoints_.size();
  note_failure(reason);
}

void AmqpSink::read_confirms(int wait_ms) {
  if (!publisher_.ready()) return;
  ConfirmHandler handler(*this);
  Status read = publisher_.read(wait_ms, wake_fd_, handler);
  trim_window();
  if (!handler.failure.empty()) note_failure("amqp sink: " + handler.failure);
  if (!read) fail_connection("amqp sink: " + read.error(), publisher_.connection_open());
}

void AmqpSink::pump() {
  if (!ensure_connected()) return;
  publish_window();
  read_confirms(0);
  publish_window();
}

void AmqpSink::poll(int max_wait_ms) {
  if (!opened_) return;
  pump();
  std::int64_t wait = std::max(0, max_wait_ms);
  const std::int64_t now = clock_.steady_ms();
  const bool work_waiting = !ready_.empty() || !retry_.empty() || publishing_ != nullptr ||
                            (spool_ && spool_->has_unread());
  if (work_waiting && backoff_until_ms_ > now)
    wait = std::min(wait, backoff_until_ms_ - now);
  else if (work_waiting && (!publisher_.ready() || unresolved_ < window_limit()))
    wait = 0;  // room in the window, or a connection to (re)open
  if (publisher_.ready()) {
    read_confirms(static_cast<int>(wait));
  } else if (wait > 0) {
    // Not connected: only the backoff or a wake-up ends this wait (a test's clock skips it).
    wait = clock_.idle_wait(wait);
    pollfd fd{wake_fd_, POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(wait));
  }
  std::uint64_t value = 0;
  if (::read(wake_fd_, &value, sizeof(value)) < 0) {
    // Not signalled: nothing to clear.
  }
  pump();
  if (spool_ != nullptr) spool_->sync();
}

bool AmqpSink::flush(int deadline_ms) {
  if (!opened_) return false;
  const std::int64_t deadline = clock_.steady_ms() + std::max(0, deadline_ms);
  while (!idle()) {
    const std::int64_t left = deadline - clock_.steady_ms();
    if (left <= 0) break;
    poll(static_cast<int>(std::min<std::int64_t>(left, 50)));
  }
  if (idle()) {
    publisher_.close();
    return true;
  }
  spill_leftovers();
  return false;
}

// What is not confirmed goes to the spool (or is counted as dropped without one). Documents read
// from the spool stay there, unacked: the next start sends their records again.
void AmqpSink::spill_leftovers() {
  for (const Pending& pending : window_) {
    if (pending.resolved) continue;
    pending.chunk->failed.append(pending.chunk->ndjson, pending.begin, pending.length);
    pending.chunk->failed.push_back('\n');
    ++pending.chunk->failed_count;
  }
  window_.clear();
  unresolved_ = 0;
  std::vector<std::unique_ptr<Chunk>> leftovers;
  for (auto& chunk : active_) {
    if (chunk->spool_segment != 0) continue;
    if (chunk->cursor < chunk->ndjson.size()) {
      chunk->failed.append(chunk->ndjson, chunk->cursor);
      chunk->failed_count += chunk->count - chunk->published;
    }
    auto left = std::make_unique<Chunk>();
    left->ndjson = std::move(chunk->failed);
    left->count = chunk->failed_count;
    left->oldest_ms = chunk->oldest_ms;
    left->seq = chunk->seq;
    if (left->count > 0) leftovers.push_back(std::move(left));
  }
  active_.clear();
  publishing_ = nullptr;
  for (auto& chunk : retry_)
    if (chunk->spool_segment == 0) leftovers.push_back(std::move(chunk));
  retry_.clear();
  retry_documents_ = 0;
  for (auto& chunk : ready_) leftovers.push_back(std::move(chunk));
  ready_.clear();
  ready_documents_ = 0;
  std::sort(leftovers.begin(), leftovers.end(),
            [](const auto& a, const auto& b) { return a->seq < b->seq; });
  std::uint64_t lost = 0;
  for (const auto& chunk : leftovers) {
    if (spool_ == nullptr) {
      lost += chunk->count;
      counters_.dropped_unsent += chunk->count;
      continue;
    }
    SpoolAppendResult result = spool_chunk(*chunk);
    if (result == SpoolAppendResult::dropped_newest) lost += chunk->count;  // counted already
    if (result == SpoolAppendResult::io_error) {
      lost += chunk->count;
      counters_.dropped_unsent += chunk->count;
    }
  }
  if (lost > 0)
    spdlog::warn("amqp sink: {} document(s) could not be kept for the next start", lost);
  if (spool_ != nullptr) spool_->sync();
  publisher_.drop();
  counters_.current_broker = -1;
}

void AmqpSink::record_latency(std::uint64_t oldest_ms) {
  latency_.record(oldest_ms, clock_.wall_ms());
}

const AmqpSinkCounters& AmqpSink::counters() {
  counters_.queued = memory_documents();
  counters_.in_flight = unresolved_;
  if (spool_ != nullptr) {
    const SpoolCounters& spool = spool_->counters();
    counters_.spool_bytes = spool.bytes;
    counters_.spool_segments = spool.segments;
    counters_.spool_write_errors = spool.write_errors;
  }
  counters_.latency_p50_ms = latency_.p50();
  counters_.latency_p99_ms = latency_.p99();
  return counters_;
}

SinkStats AmqpSink::stats() {
  const AmqpSinkCounters& c = counters();
  SinkStats stats;
  stats.delivered = c.confirmed;
  stats.retried = c.retried;
  stats.dropped = c.dropped_queue_full + c.dropped_unsent + c.dropped_spool_full;
  stats.dropped_spool_full = c.dropped_spool_full;
  stats.queued = c.queued;
  stats.batches_in_flight = c.in_flight;
  stats.spool_bytes = c.spool_bytes;
  stats.spool_segments = c.spool_segments;
  stats.latency_p50_ms = c.latency_p50_ms;
  stats.latency_p99_ms = c.latency_p99_ms;
  stats.amqp = SinkStats::Amqp{c.published, c.confirmed,  c.nacked,        c.returned,
                               c.in_flight, c.reconnects, c.current_broker};
  return stats;
}

}  // namespace aurelay::output
