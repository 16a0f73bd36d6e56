// Where encoded documents go. A sink is owned and driven by one thread (the shipper).
#pragma once

#include <cstdint>
#include <string>

#include "base/document_batch.h"
#include "base/stats.h"
#include "output/output_stats.h"

namespace aurelay::output {

// The contract: a written batch is delivered, queued, spooled or dropped-and-counted by the sink
// exactly once when write() says ok; on failed the sink took none of it and the caller writes the
// same batch again later.
enum class SinkStatus : std::uint8_t {
  ok,      // the sink took the batch (delivered, queued, spooled, or dropped and counted)
  failed,  // the sink took nothing; `last_error()` says why; write the batch again
};

class Sink {
 public:
  // `stats`: where the sink counts (the daemon's Metrics); null = the sink's own.
  explicit Sink(OutputStats* stats = nullptr) : stats_(stats) {}
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
  // The sink's counters and gauges, its gauges brought up to date first (a few times a second
  // is enough: the latency percentiles cost a sort).
  OutputStats& stats() {
    refresh_gauges();
    return *stats_;
  }
  // Documents the sink holds in memory, not yet handed to the destination.
  virtual std::uint64_t queued_documents() const { return 0; }

 protected:
  virtual void refresh_gauges() {}
  OutputStats& counters() const { return *stats_; }  // for the sink's own writes

 private:
  StatsStorage<OutputStats> stats_;
};

}  // namespace aurelay::output
