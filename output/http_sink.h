// HTTP(S) sink for MozDef: batches documents, POSTs them with libcurl multi (keep-alive, several
// transfers in flight), retries with full-jitter backoff, spools to disk when the server fails or
// memory fills, replays the spool oldest first, dead-letters documents the server rejects.
//
// Owned and driven by one thread (the shipper): write() queues and returns quickly, poll() moves
// transfers along and waits in curl_multi_poll, wakeup() (any thread) interrupts that wait.
//
// Adaptive batching: documents collect in an open batch that leaves as soon as a connection is
// free (fewer than http_max_inflight POSTs in flight, nothing queued ahead, not backing off), so
// a quiet host ships each event without waiting for a timer. While every connection is busy the
// open batch keeps filling, and it leaves when a POST finishes, when it is full
// (batch_max_events / batch_max_bytes) or after batch_flush_ms, whichever comes first: a busy
// host sends few, full batches, and a batch waits at most about one POST's round trip.
//
// The sink's own waiting (backoff, batch and flush deadlines, warnings' rate limits) reads an
// injected Clock (output/clock.h), so tests run outages in virtual time against a real server.
//
// Delivery semantics: 2xx = delivered; 5xx, 408, 429, timeouts and connection/TLS errors = retry
// (the whole sink backs off, then probes with one transfer until a 2xx); any other status =
// rejected: a batch of several documents is split in halves and re-sent until the rejected
// documents are alone, which are then counted, logged (rate-limited) and written to the
// dead-letter file. At least once: a batch read from the spool is removed from disk only after
// its 2xx (or rejection), so a crash re-sends it.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/result.h"
#include "output/bulk_format.h"
#include "output/clock.h"
#include "output/dead_letter.h"
#include "output/latency_window.h"
#include "output/retry_policy.h"
#include "output/sink.h"
#include "output/spool.h"
#include "output/spooled_batch.h"

namespace aurelay::output {

// Defaults of the http options (the option table formats these same constants).
inline constexpr unsigned kDefaultHttpMaxInflight = 4;
inline constexpr std::size_t kDefaultBatchMaxEvents = 500;
inline constexpr std::size_t kDefaultBatchMaxBytes = 1u << 20;  // 1 MiB
inline constexpr int kDefaultBatchFlushMs = 200;

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

// Plain counters of the shipper; the lead copies them into collector::Metrics (same names).
struct HttpSinkCounters {
  // gauges
  std::uint64_t output_queued = 0;  // documents waiting in memory (not in flight)
  std::uint64_t batches_in_flight = 0;
  std::uint64_t spool_bytes = 0;
  std::uint64_t spool_segments = 0;
  std::int64_t last_http_status = 0;  // 0 = no answer (transport error) or nothing sent yet
  std::uint64_t latency_p50_ms = 0;   // event time (oldest of its batch) -> 2xx, last 4096 batches
  std::uint64_t latency_p99_ms = 0;
  // counters (documents unless said otherwise)
  std::uint64_t delivered = 0;
  std::uint64_t delivered_batches = 0;
  std::uint64_t requests = 0;  // POSTs finished (any outcome)
  std::uint64_t retried = 0;   // failed POSTs that will be retried (batches)
  std::uint64_t retried_documents = 0;
  std::uint64_t transport_errors = 0;  // POSTs without an HTTP answer (refused, timeout, TLS)
  std::uint64_t rejected = 0;          // documents refused for good (4xx)
  std::uint64_t rejected_splits = 0;   // rejected batches split in halves to isolate documents
  std::uint64_t dead_lettered = 0;     // documents written to the dead-letter file
  std::uint64_t dead_letter_errors = 0;
  std::uint64_t spooled = 0;             // documents written to the spool
  std::uint64_t unspooled = 0;           // documents read back from the spool
  std::uint64_t dropped_spool_full = 0;  // documents (drop_oldest: unread ones of dropped segments)
  std::uint64_t dropped_queue_full = 0;  // documents: memory full and no spool
  std::uint64_t dropped_unsent = 0;      // documents: not delivered at shutdown and no spool
  std::uint64_t spool_corrupt_records = 0;
  std::uint64_t spool_corrupt_bytes = 0;
  std::uint64_t spool_write_errors = 0;
};

class HttpSink final : public Sink {
 public:
  // `clock` must outlive the sink (tests pass a ManualClock).
  explicit HttpSink(HttpSinkConfig config, Clock& clock = SteadyClock::instance());
  // Tests inject the random source of the backoff.
  HttpSink(HttpSinkConfig config, Clock& clock, RetryPolicy::RandomSource random);
  ~HttpSink() override;  // leftovers in memory go to the spool (see flush)
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  // Checks the config, opens the spool (indexing what a previous run left: it is sent first),
  // the curl log file and the curl handles. Call once before anything else.
  Status open();

  SinkStatus write(const DocumentBatch& batch) override;
  void poll(int max_wait_ms) override;
  // Tries to deliver everything for up to `deadline_ms` milliseconds. What is not delivered by
  // then (in memory or in flight) is written to the spool for the next start and false returned;
  // without a spool it is counted in dropped_unsent.
  bool flush(int deadline_ms) override;
  void reopen() override;  // dead-letter file and curl log file
  bool has_own_wait() const override { return true; }
  void wakeup() override;  // thread-safe
  const std::string& last_error() const override { return last_error_; }

  // Gauges are refreshed on each call.
  const HttpSinkCounters& counters();
  SinkStats stats() override;
  // True when nothing is waiting in memory, in flight or in the spool.
  bool idle() const;

 private:
  struct OutBatch {
    std::string ndjson;  // documents, each followed by '\n'
    std::uint32_t count = 0;
    std::uint64_t oldest_ms = 0;
    std::uint64_t spool_segment = 0;  // != 0: read from the spool, ack after delivery
    std::uint64_t seq = 0;
  };
  struct Transfer {
    CURL* easy = nullptr;
    bool busy = false;
    OutBatch batch;
    std::string body;  // array framing (others post from batch.ndjson)
    std::string response;
    char error[CURL_ERROR_SIZE] = {};
  };

  Status check_config();
  Status open_spool();
  Status open_curl_log();
  Status open_transfers();
  Status fail_open(std::string message);
  void configure_easy(Transfer& transfer);

  bool connection_free() const;
  bool open_batch_due(std::int64_t now) const;
  void seal_open_if_due();
  void move_transfers_along();
  std::int64_t wait_ms(int max_wait_ms) const;
  void seal_open();
  void enqueue_sealed(OutBatch&& batch);
  SpoolAppendResult spool_batch(const OutBatch& batch);
  void start_transfers();
  bool next_batch(OutBatch& out);
  void start(Transfer& transfer, OutBatch&& batch);
  bool split_in_halves(OutBatch&& batch);
  void drain_messages();
  void finish(Transfer& transfer, CURLcode code);
  void on_delivered(OutBatch&& batch);
  void on_retry(const Transfer& transfer, OutBatch&& batch, CURLcode code, long status);
  void on_rejected(const Transfer& transfer, OutBatch&& batch, long status);
  void requeue_front(OutBatch&& batch);
  void record_latency(std::uint64_t oldest_ms);
  void spill_leftovers();
  std::size_t in_flight() const;
  std::int64_t now_ms() const;
  std::uint64_t memory_documents() const;

  HttpSinkConfig config_;
  Clock& clock_;
  RetryPolicy retry_policy_;
  std::unique_ptr<Spool> spool_;
  DeadLetterFile dead_letter_;
  CURLM* multi_ = nullptr;
  curl_slist* json_headers_ = nullptr;    // Content-Type: application/json
  curl_slist* ndjson_headers_ = nullptr;  // Content-Type: application/x-ndjson
  FILE* curl_log_ = nullptr;
  std::string display_url_;  // url without its credentials, for logs and errors
  std::vector<std::unique_ptr<Transfer>> transfers_;
  bool opened_ = false;

  OutBatch open_;
  std::int64_t open_since_ms_ = 0;
  std::deque<OutBatch> ready_;  // sealed, fresh
  std::deque<OutBatch> retry_;  // to send again first (by seq)
  std::uint64_t next_seq_ = 1;
  std::uint64_t ready_documents_ = 0;
  std::uint64_t retry_documents_ = 0;
  bool spool_turn_ = true;

  std::uint32_t consecutive_failures_ = 0;
  std::int64_t backoff_until_ms_ = 0;

  LatencyWindow latency_;  // of delivered batches

  RateLimitedLog retry_log_;
  RateLimitedLog reject_log_;
  RateLimitedLog spool_log_;
  HttpSinkCounters counters_;
  std::string last_error_;
};

}  // namespace aurelay::output
