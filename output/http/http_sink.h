// HTTP(S) output for MozDef: the delivery engine (output/delivery_engine.h: batching, memory
// queue, backoff, spool, dead letter, counters) driving the HTTP transport
// (output/http/http_transport.h: libcurl multi POSTs, keep-alive, several transfers in flight).
//
// Adaptive batching: documents collect in an open batch that leaves as soon as a connection is
// free (fewer than http_max_inflight POSTs in flight, nothing queued ahead, not backing off), so
// a quiet host ships each event without waiting for a timer. While every connection is busy the
// open batch keeps filling, and it leaves when a POST finishes, when it is full
// (batch_max_events / batch_max_bytes) or after batch_flush_ms, whichever comes first.
//
// Delivery semantics: 2xx = delivered; 5xx, 408, 429, timeouts and connection/TLS errors = retry
// (the engine backs off, then probes with one transfer until a 2xx); any other status =
// rejected: a batch of several documents is split in halves and re-sent until the rejected
// documents are alone, which are then counted, logged (rate-limited) and written to the
// dead-letter file. At least once: a batch read from the spool is removed from disk only after
// its 2xx (or rejection), so a crash re-sends it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "output/clock.h"
#include "output/delivery_engine.h"
#include "output/http/http_transport.h"
#include "output/retry_policy.h"
#include "output/spool.h"

namespace aurelay::output {

class HttpSink final : public DeliveryEngine {
 public:
  // `clock` must outlive the sink (tests pass a ManualClock).
  // `stats`: where it counts (the daemon's Metrics); null = its own.
  explicit HttpSink(const HttpSinkConfig& config, Clock& clock = SteadyClock::instance(),
                    OutputStats* stats = nullptr);
  // Tests inject the random source of the backoff.
  HttpSink(const HttpSinkConfig& config, Clock& clock, RetryPolicy::RandomSource random,
           OutputStats* stats = nullptr);
};

}  // namespace aurelay::output
