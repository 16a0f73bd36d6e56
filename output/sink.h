// Where encoded documents go. A sink is owned and driven by one thread (the shipper).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/document_batch.h"

namespace aurelay::output {

// The contract: a written batch is delivered, queued, spooled or dropped-and-counted by the sink
// exactly once when write() says ok; on failed the sink took none of it and the caller writes the
// same batch again later.
enum class SinkStatus : std::uint8_t {
  ok,      // the sink took the batch (delivered, queued, spooled, or dropped and counted)
  failed,  // the sink took nothing; `last_error()` says why; write the batch again
};

// What a sink reports about its progress, in the shape the collector's metrics take.
struct SinkStats {
  std::uint64_t delivered = 0;  // documents confirmed written or acknowledged
  std::uint64_t retried = 0;    // failed attempts that will be tried again
  std::uint64_t rejected = 0;   // documents refused for good (e.g. HTTP 4xx)
  std::uint64_t dropped = 0;    // documents lost (spool full, shutdown without spool)
  std::uint64_t dropped_spool_full = 0;
  std::uint64_t queued = 0;  // documents waiting in memory
  std::uint64_t batches_in_flight = 0;
  std::uint64_t documents_in_flight = 0;  // sent, answer not there yet
  std::uint64_t spool_documents = 0;      // in the spool, not in memory or in flight
  std::uint64_t spool_bytes = 0;
  std::uint64_t spool_segments = 0;
  std::int64_t last_status = 0;      // last HTTP status, 0 when none
  std::uint64_t latency_p50_ms = 0;  // event time -> delivery
  std::uint64_t latency_p99_ms = 0;
  // What only some sinks have (0 otherwise).
  std::uint64_t delivered_batches = 0;
  std::uint64_t bytes_written = 0;  // file
  std::uint64_t write_errors = 0;   // file
  std::uint64_t reopens = 0;        // file
  std::uint64_t requests = 0;       // HTTP requests finished, any outcome
  std::uint64_t transport_errors = 0;
  std::uint64_t retried_documents = 0;
  std::uint64_t rejected_splits = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t dead_letter_errors = 0;
  std::uint64_t spooled = 0;
  std::uint64_t unspooled = 0;
  std::uint64_t spool_corrupt_records = 0;
  std::uint64_t spool_corrupt_bytes = 0;
  std::uint64_t spool_write_errors = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_rejected = 0;  // rejected and not dead-lettered
  std::uint64_t stalls = 0;            // times the destination stalled (overdue answer, blocked)
  // AMQP output only (documents; publisher confirms).
  struct Amqp {
    std::uint64_t published = 0;
    std::uint64_t confirmed = 0;
    std::uint64_t nacked = 0;
    std::uint64_t returned = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t reconnects = 0;
    std::int64_t current_broker = -1;  // index in the URL list, -1 = not connected
  };
  std::optional<Amqp> amqp;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Takes a batch. A sink that ships asynchronously copies or queues what it needs.
  virtual SinkStatus write(const DocumentBatch& batch) = 0;
  // Makes progress on asynchronous work; returns when done or after `max_wait_ms`.
  virtual void poll(int max_wait_ms) {}
  // Delivers everything queued; gives up after `deadline_ms` (returns false then).
  virtual bool flush(int deadline_ms) = 0;
  // Reopens files (SIGHUP / logrotate).
  virtual void reopen() {}
  // True when the sink has its own wait (e.g. curl_multi_poll): the shipper thread then calls
  // poll() while idle, and other threads call wakeup() (thread-safe) when they queue a batch.
  virtual bool has_own_wait() const { return false; }
  virtual void wakeup() {}
  virtual const std::string& last_error() const = 0;
  virtual SinkStats stats() { return {}; }
};

}  // namespace aurelay::output
