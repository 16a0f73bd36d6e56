// The delivery engine: everything between the encoder's batches and a transport that only sends.
//
// It owns batching (adaptive: a batch leaves as soon as the transport can take one, else when it
// is full or batch_flush_ms old), the memory queue, the backoff after failures (full jitter; one
// probe at a time until the destination answers again), the disk spool (spill when failing,
// stalled or out of memory; replay oldest first, taking turns with live batches), the dead-letter
// file, the latency window, stall detection and the counters that balance the books:
//
//   documents encoded (+ the spool left by a previous run)
//     = delivered + in memory + in flight + in the spool + dropped (by reason) + dead-lettered
//
// A Transport (HTTP, AMQP) only sends a batch and reports back through DeliveryReports, in the
// manner of Fluent Bit's output plugins (FLB_OK / FLB_RETRY / FLB_ERROR): delivered, retry with
// its reason, or rejected. A rejected batch of several documents is split in halves and sent
// again until the rejected documents are alone; those are dead-lettered.
//
// A transport that stalls (an answer overdue for kStallWarningMs, or a destination that says it
// blocks, like RabbitMQ's connection.blocked) is an outage: new batches go to the spool, the
// cause is named in a rate-limited warning, and sending resumes when the cause clears.
//
// Owned and driven by one thread (the shipper): write() queues and returns quickly, poll() moves
// the transport along and waits in it, wakeup() (any thread) interrupts that wait. Timers read an
// injected Clock (output/clock.h), so tests run outages in virtual time against real servers.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/rate_limited_log.h"
#include "base/result.h"
#include "output/clock.h"
#include "output/dead_letter.h"
#include "output/latency_window.h"
#include "output/retry_policy.h"
#include "output/sink.h"
#include "output/spool.h"
#include "output/spooled_batch.h"

namespace aurelay::output {

// Defaults of the batching options (the option table formats these same constants).
inline constexpr std::size_t kDefaultBatchMaxEvents = 500;
inline constexpr std::size_t kDefaultBatchMaxBytes = 1u << 20;  // 1 MiB
inline constexpr int kDefaultBatchFlushMs = 200;
// An answer overdue this long makes the transport stalled (warned, new batches spooled).
inline constexpr std::int64_t kStallWarningMs = 2000;

// The engine's options (batch_*, retry_*, spool_*, dead_letter_file): the same for every
// transport, so the daemon's Config holds one and each sink is handed it.
struct DeliveryConfig {
  std::string name;  // "http sink", "amqp sink" (set by the sink): starts every log line and error
  std::size_t batch_max_events = kDefaultBatchMaxEvents;  // documents per batch
  std::size_t batch_max_bytes = kDefaultBatchMaxBytes;    // bytes per batch (bigger doc: alone)
  int batch_flush_ms = kDefaultBatchFlushMs;              // longest a partly filled batch waits
  bool one_document_per_send = false;  // batches read from the spool are split to single ones
  std::uint64_t retry_base_ms = kDefaultRetryBaseMs;
  std::uint64_t retry_max_ms = kDefaultRetryMaxMs;
  // Spool: empty spool_dir = no spool (overflow and stop leftovers are dropped and counted).
  std::string spool_dir;
  std::uint64_t spool_max_bytes = kDefaultSpoolMaxBytes;
  std::uint64_t spool_segment_bytes = 16ull << 20;
  SpoolFullAction spool_full_action = kDefaultSpoolFullAction;
  SpoolFsync spool_fsync = kDefaultSpoolFsync;
  // Documents kept in memory (open + sealed + waiting to retry) before new batches go to the
  // spool (or, without a spool, are dropped).
  std::size_t memory_max_documents = 50000;
  std::string dead_letter_file;  // empty = rejected documents are only counted (as dropped)
};

// Documents on their way: each followed by '\n'.
struct OutgoingBatch {
  std::string ndjson;
  std::uint32_t count = 0;
  std::uint64_t oldest_ms = 0;      // event time of the oldest document (wall ms, 0 unknown)
  std::uint64_t spool_segment = 0;  // != 0: read from the spool, acked once delivered
  std::uint64_t seq = 0;            // order of sealing: retries go back in this order
};

// What a transport reports. Every batch handed to Transport::send comes back exactly once through
// delivered, retry or rejected (or through take_unfinished at stop).
class DeliveryReports {
 public:
  virtual void delivered(OutgoingBatch&& batch) = 0;
  // `batch` holds the documents to send again; `delivered_documents` of the batch as sent were
  // delivered (a transport that confirms document by document).
  virtual void retry(OutgoingBatch&& batch, std::uint32_t delivered_documents,
                     const std::string& reason) = 0;
  virtual void rejected(OutgoingBatch&& batch, const std::string& reason) = 0;
  // The destination cannot be reached (connect failed); no batch involved.
  virtual void unavailable(const std::string& reason) = 0;

 protected:
  ~DeliveryReports() = default;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Checks the config and prepares the transport (no connection yet).
  virtual Status open() = 0;
  // The destination without credentials, for logs.
  virtual const std::string& destination() const = 0;
  // Connects when not connected (may block up to its connect timeout); false when it cannot
  // send now (a failed connect is reported through `reports.unavailable`).
  virtual bool connect(DeliveryReports& reports) = 0;
  // True when send() may be called now. `probing`: the destination failed lately, send one
  // small probe at a time.
  virtual bool can_take_batch(bool probing) const = 0;
  virtual void send(OutgoingBatch&& batch, DeliveryReports& reports) = 0;
  // Moves sends along, waiting up to `wait_ms` for the destination or a wakeup; reports what
  // finished.
  virtual void progress(int wait_ms, DeliveryReports& reports) = 0;
  virtual void wakeup() = 0;  // thread-safe
  virtual std::size_t batches_in_flight() const = 0;
  virtual std::uint64_t documents_in_flight() const = 0;
  // When (steady ms) the oldest send still waiting for its answer started; -1 when none waits.
  virtual std::int64_t oldest_unanswered_ms() const = 0;
  // Non-empty while the destination said it will not take messages (e.g. RabbitMQ's
  // connection.blocked), with its reason.
  virtual std::string blocked_reason() const { return {}; }
  // At stop: every batch sent and not finished, handed back (not reported), holding only the
  // documents not delivered; returns how many documents of those batches were delivered.
  virtual std::uint64_t take_unfinished(std::vector<OutgoingBatch>& out) = 0;
  // After a complete flush: goodbye to the destination.
  virtual void close() {}
  virtual void reopen() {}
  // Brings the transport's own gauges up to date (the engine calls it from its refresh).
  virtual void refresh_gauges() {}
  // Where the transport counts what only it knows (the engine's OutputStats); called once by
  // the engine before open().
  void attach_stats(OutputStats& stats) { stats_ = &stats; }

 protected:
  OutputStats& stats() const { return *stats_; }

 private:
  OutputStats* stats_ = nullptr;
};

class DeliveryEngine : public Sink, private DeliveryReports {
 public:
  // `clock` must outlive the engine (tests pass a ManualClock).
  // `stats`: where the engine and its transport count (null = their own).
  DeliveryEngine(DeliveryConfig config, std::unique_ptr<Transport> transport, Clock& clock,
                 RetryPolicy::RandomSource random = {}, OutputStats* stats = nullptr);
  ~DeliveryEngine() override;  // leftovers in memory and in flight go to the spool
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Opens the transport, then the spool (indexing what a previous run left: it is sent first).
  // Call once before anything else.
  Status open();

  SinkStatus write(const DocumentBatch& batch) override;
  void poll(int max_wait_ms) override;
  // Tries to deliver everything for up to `deadline_ms`. What is not delivered by then goes to
  // the spool for the next start (without a spool: counted in documents_dropped_output),
  // last_error() says why, and false is returned.
  bool flush(int deadline_ms) override;
  void reopen() override;
  bool has_own_wait() const override { return true; }
  void wakeup() override { transport_->wakeup(); }
  const std::string& last_error() const override { return last_error_; }
  std::uint64_t queued_documents() const override;
  // True when nothing is waiting in memory, in flight or in the spool.
  bool idle() const;

 protected:
  const Transport& transport() const { return *transport_; }

 private:
  void refresh_gauges() override;
  void count_dropped(Counter& reason, std::uint64_t documents, bool also_total = true);
  void delivered(OutgoingBatch&& batch) override;
  void retry(OutgoingBatch&& batch, std::uint32_t delivered_documents,
             const std::string& reason) override;
  void rejected(OutgoingBatch&& batch, const std::string& reason) override;
  void unavailable(const std::string& reason) override;

  Status open_spool();
  void add_documents(const DocumentBatch& batch);
  void seal_open();
  void enqueue_sealed(OutgoingBatch&& batch);
  SpoolAppendResult spool_batch(const OutgoingBatch& batch);
  bool next_batch(OutgoingBatch& out);
  bool next_from_spool(OutgoingBatch& out);
  bool split_in_halves(OutgoingBatch&& batch);
  void requeue_front(OutgoingBatch&& batch);
  void start_sending();
  void move_along(int wait_ms);
  void check_stall();
  bool connection_free() const;
  bool work_waiting() const;
  std::int64_t wait_ms(int max_wait_ms) const;
  void note_failure(const std::string& reason);
  void note_answer();
  void spill_leftovers();
  void ack_spooled(const OutgoingBatch& batch);
  std::string unflushed_reason(int deadline_ms);
  std::uint64_t memory_documents() const;
  std::int64_t now_ms() const { return clock_.steady_ms(); }

  DeliveryConfig config_;
  std::unique_ptr<Transport> transport_;
  Clock& clock_;
  RetryPolicy retry_policy_;
  std::unique_ptr<Spool> spool_;
  DeadLetterFile dead_letter_;
  bool opened_ = false;

  OutgoingBatch open_;
  std::int64_t open_since_ms_ = 0;
  std::deque<OutgoingBatch> ready_;  // sealed, fresh
  std::deque<OutgoingBatch> retry_;  // to send again first (by seq)
  std::uint64_t next_seq_ = 1;
  std::uint64_t ready_documents_ = 0;
  std::uint64_t retry_documents_ = 0;
  std::uint64_t spool_documents_handed_back_ = 0;  // read, then left in the spool at stop
  bool spool_turn_ = true;

  std::uint32_t consecutive_failures_ = 0;
  std::int64_t backoff_until_ms_ = 0;
  std::string stall_reason_;    // non-empty while the transport is stalled
  bool stall_blocked_ = false;  // ... because the destination said it blocks
  std::string last_problem_;    // the last failure or stall, for the exit line

  LatencyWindow latency_;  // of delivered batches
  RateLimitedLog retry_log_;
  RateLimitedLog reject_log_;
  RateLimitedLog spool_log_;
  RateLimitedLog stall_log_;
  std::string last_error_;
};

}  // namespace aurelay::output
