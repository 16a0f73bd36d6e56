// AMQP sink: publishes every document as one persistent message to MozDef's RabbitMQ exchange
// (what loginput publishes), with publisher confirms: a document is delivered only when the broker
// acks it.
//
// Owned and driven by one thread (the shipper): write() queues a batch and publishes what the
// window allows, poll() handles the broker's acks and waits on the socket or a wakeup (any
// thread). Up to `confirm_window` messages are unconfirmed at once.
//
// Delivery: each published document has its delivery tag in a window (tag -> document). An ack
// (also a multiple ack) delivers; a nack, a return (mandatory message no queue took: its ack that
// follows is not a delivery) or a channel/connection error fails the documents concerned. Failed
// documents are retried with full-jitter backoff; while the broker fails, new batches go to the
// disk spool, which is sent oldest first once the broker is back. Several broker URLs (a cluster)
// are tried in turn: a failed connection moves to the next. At-least-once: a spooled record is
// removed only when every one of its documents is acked; a crash or a lost connection sends the
// unconfirmed ones again (the broker may then hold duplicates).
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "output/amqp_publisher.h"
#include "output/clock.h"
#include "output/latency_window.h"
#include "output/retry_policy.h"
#include "output/sink.h"
#include "output/spool.h"
#include "output/spooled_batch.h"

namespace aurelay::output {

// Default of amqp_confirm_window (the option table formats this same constant).
inline constexpr std::size_t kDefaultAmqpConfirmWindow = 1000;

struct AmqpSinkConfig {
  std::string urls;  // amqp_url / --output: one URL or a comma-separated list (credentials inside)
  AmqpPublisherConfig publisher;
  std::size_t confirm_window = kDefaultAmqpConfirmWindow;  // unconfirmed messages at most
  std::uint64_t retry_base_ms = kDefaultRetryBaseMs;
  std::uint64_t retry_max_ms = kDefaultRetryMaxMs;
  std::string spool_dir;  // empty = no spool (memory only; leftovers are dropped and counted)
  std::uint64_t spool_max_bytes = kDefaultSpoolMaxBytes;
  std::uint64_t spool_segment_bytes = 16ull << 20;
  SpoolFullAction spool_full_action = kDefaultSpoolFullAction;
  SpoolFsync spool_fsync = kDefaultSpoolFsync;
  std::size_t memory_max_documents = 50000;  // queued in memory before batches go to the spool
};

struct AmqpSinkCounters {
  // gauges
  std::uint64_t queued = 0;     // documents waiting in memory (not published)
  std::uint64_t in_flight = 0;  // published, not confirmed
  std::uint64_t spool_bytes = 0;
  std::uint64_t spool_segments = 0;
  std::int64_t current_broker = -1;  // index in the URL list of the connected broker, -1 = none
  std::uint64_t latency_p50_ms = 0;
  std::uint64_t latency_p99_ms = 0;
  // counters (documents)
  std::uint64_t published = 0;
  std::uint64_t confirmed = 0;  // acked and not returned: delivered
  std::uint64_t nacked = 0;
  std::uint64_t returned = 0;            // unroutable (no queue bound with the routing key)
  std::uint64_t failed_unconfirmed = 0;  // in flight when the channel or connection failed
  std::uint64_t retried = 0;             // documents sent again after a failure
  std::uint64_t reconnects = 0;          // successful (re)connections after the first
  std::uint64_t connect_failures = 0;
  std::uint64_t channel_errors = 0;
  std::uint64_t spooled = 0;
  std::uint64_t unspooled = 0;
  std::uint64_t dropped_spool_full = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_unsent = 0;
  std::uint64_t spool_write_errors = 0;
};

class AmqpSink final : public Sink {
 public:
  // `clock` (backoff, deadlines, rate limits, latency; output/clock.h) must outlive the sink.
  explicit AmqpSink(AmqpSinkConfig config, Clock& clock = SteadyClock::instance());
  AmqpSink(AmqpSinkConfig config, RetryPolicy::RandomSource random,
           Clock& clock = SteadyClock::instance());
  ~AmqpSink() override;
  AmqpSink(const AmqpSink&) = delete;
  AmqpSink& operator=(const AmqpSink&) = delete;

  // Parses the URLs, opens the spool and the wakeup eventfd. Does not connect (the broker may be
  // down at start: batches are spooled meanwhile). The error never holds credentials.
  Status open();

  SinkStatus write(const DocumentBatch& batch) override;
  void poll(int max_wait_ms) override;
  // Publishes and waits for confirms for up to `deadline_ms`; what is unconfirmed then goes to the
  // spool for the next start (false returned).
  bool flush(int deadline_ms) override;
  bool has_own_wait() const override { return true; }
  void wakeup() override;
  const std::string& last_error() const override { return last_error_; }
  SinkStats stats() override;

  const AmqpSinkCounters& counters();
  // The broker URL (without credentials) of `index` in the list, empty when out of range.
  std::string broker_display(std::int64_t index) const;
  bool idle() const;

 private:
  // Documents taken from a batch or a spool record, published one message each.
  struct Chunk {
    std::string ndjson;  // documents, each followed by '\n'
    std::uint32_t count = 0;
    std::uint64_t oldest_ms = 0;
    std::uint64_t spool_segment = 0;  // != 0: read from the spool, ack once all are confirmed
    std::uint64_t seq = 0;
    // Publishing state.
    std::size_t cursor = 0;       // offset of the next document to publish
    std::uint32_t published = 0;  // documents published (or given up before publishing)
    std::uint32_t resolved = 0;   // documents acked, nacked, returned or failed
    std::string failed;           // documents to send again
    std::uint32_t failed_count = 0;
  };
  struct Pending {
    Chunk* chunk = nullptr;
    std::uint32_t begin = 0;  // offset of the document in chunk->ndjson
    std::uint32_t length = 0;
    bool resolved = false;
    bool returned = false;  // came back unroutable: its ack is a failure
  };
  class ConfirmHandler;

  void pump();
  bool ensure_connected();
  void publish_window();
  bool next_chunk();
  void read_confirms(int wait_ms);
  void resolve(std::uint64_t tag, bool delivered);
  void resolve_up_to(std::uint64_t tag, bool delivered);
  void complete(Chunk* chunk);
  void trim_window();
  void fail_connection(const std::string& reason, bool channel_only);
  void note_failure(const std::string& reason);
  void enqueue(std::unique_ptr<Chunk> chunk);
  SpoolAppendResult spool_chunk(const Chunk& chunk);
  void requeue(std::unique_ptr<Chunk> chunk);
  void spill_leftovers();
  void record_latency(std::uint64_t oldest_ms);
  void warn(const std::string& message);
  std::uint64_t memory_documents() const;
  std::size_t window_limit() const;

  AmqpSinkConfig config_;
  std::vector<AmqpEndpoint> endpoints_;
  AmqpPublisher publisher_;
  Clock& clock_;
  RetryPolicy retry_policy_;
  std::unique_ptr<Spool> spool_;
  int wake_fd_ = -1;
  bool opened_ = false;

  std::deque<std::unique_ptr<Chunk>> ready_;  // fresh batches
  std::deque<std::unique_ptr<Chunk>> retry_;  // failed documents, by seq
  std::uint64_t ready_documents_ = 0;
  std::uint64_t retry_documents_ = 0;
  std::uint64_t next_seq_ = 1;
  bool spool_turn_ = true;

  std::list<std::unique_ptr<Chunk>> active_;  // chunks being published or confirmed
  Chunk* publishing_ = nullptr;               // active_.back() while it has unpublished docs
  std::deque<Pending> window_;                // by tag: window_[i] has tag first_tag_ + i
  std::uint64_t first_tag_ = 1;
  std::uint64_t unresolved_ = 0;

  std::size_t broker_index_ = 0;
  bool ever_connected_ = false;
  std::uint32_t consecutive_failures_ = 0;
  std::int64_t backoff_until_ms_ = 0;

  LatencyWindow latency_;  // of delivered batches
  RateLimitedLog warn_log_;
  AmqpSinkCounters counters_;
  std::string last_error_;
};

}  // namespace aurelay::output
