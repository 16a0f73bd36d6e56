// HTTP(S) output for MozDef: the delivery engine (output/delivery_engine.h: batching, memory
// queue, backoff, spool, dead letter, counters) driving the HTTP transport
// (output/http_transport.h: libcurl multi POSTs, keep-alive, several transfers in flight).
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

#include "correlate/result.h"
#include "output/bulk_format.h"
#include "output/clock.h"
#include "output/delivery_engine.h"
#include "output/http_transport.h"
#include "output/retry_policy.h"
#include "output/spool.h"

namespace aurelay::output {

// Default of http_max_inflight (the option table formats this same constant; the batching
// defaults are the engine's, output/delivery_engine.h).
inline constexpr unsigned kDefaultHttpMaxInflight = 4;

struct HttpSinkConfig {
  // mozdef_url / --output: the full URL POSTed to, e.g. https://mozdef:8080/_bulk for array and
  // ndjson or https://mozdef:8080/events for single (see output/bulk_format.h). Required.
  std::string url;
  // "user:password" for HTTP basic authentication (http_credentials_file); empty: the URL's own
  // user information, if any. Never logged: logs show redact_url_credentials(url).
  std::string credentials;
  unsigned http_max_inflight = kDefaultHttpMaxInflight;   // concurrent POSTs (keep-alive conns)
  std::size_t batch_max_events = kDefaultBatchMaxEvents;  // documents per POST (single: always 1)
  std::size_t batch_max_bytes = kDefaultBatchMaxBytes;    // body bytes per POST (bigger doc: alone)
  // Longest a partly filled batch waits for more while every connection is busy (with one free
  // it leaves at once, see above).
  int batch_flush_ms = kDefaultBatchFlushMs;
  BulkFormat bulk_format = kDefaultBulkFormat;
  std::uint64_t retry_base_ms = kDefaultRetryBaseMs;  // full-jitter exponential backoff base...
  std::uint64_t retry_max_ms = kDefaultRetryMaxMs;    // ...and ceiling
  long request_timeout_ms = 30000;                    // whole request (connect + send + answer)
  long connect_timeout_ms = 10000;
  // TLS (audisp-json's keys): verify peer and host by default.
  bool ssl_verify = true;
  std::string curl_cainfo;    // CA bundle file (PEM); empty = system default
  std::string client_cert;    // client certificate (PEM), empty = none
  std::string client_key;     // its private key (PEM)
  bool curl_verbose = false;  // libcurl's verbose trace...
  std::string curl_logfile;   // ...to this file (appended), stderr when empty
  // Spool: empty spool_dir = no spool (memory only; overflow and shutdown leftovers are dropped
  // and counted).
  std::string spool_dir;
  std::uint64_t spool_max_bytes = kDefaultSpoolMaxBytes;
  std::uint64_t spool_segment_bytes = 16ull << 20;  // rotate segments after 16 MiB
  SpoolFullAction spool_full_action = kDefaultSpoolFullAction;
  SpoolFsync spool_fsync = kDefaultSpoolFsync;
  // Documents kept in memory (open + sealed + waiting to retry) before new batches go to the
  // spool (or, without a spool, are dropped).
  std::size_t memory_max_documents = 50000;
  std::string dead_letter_file;  // empty = rejected documents are only counted
};

// The engine's counters and the HTTP transport's (same names as the collector's metrics).
struct HttpSinkCounters : DeliveryCounters {
  std::uint64_t requests = 0;          // POSTs finished (any outcome)
  std::uint64_t transport_errors = 0;  // POSTs without an HTTP answer (refused, timeout, TLS)
  std::int64_t last_http_status = 0;   // 0 = no answer (transport error) or nothing sent yet
};

class HttpSink final : public DeliveryEngine {
 public:
  // `clock` must outlive the sink (tests pass a ManualClock).
  explicit HttpSink(HttpSinkConfig config, Clock& clock = SteadyClock::instance());
  // Tests inject the random source of the backoff.
  HttpSink(HttpSinkConfig config, Clock& clock, RetryPolicy::RandomSource random);

  // Gauges are refreshed on each call.
  const HttpSinkCounters& counters();

 private:
  HttpSink(std::unique_ptr<HttpSinkConfig> config, Clock& clock, RetryPolicy::RandomSource random);

  std::unique_ptr<HttpSinkConfig> http_config_;  // the transport reads it
  HttpSinkCounters http_counters_;
};

}  // namespace aurelay::output
