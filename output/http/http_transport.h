// HTTP(S) transport of the delivery engine: POSTs batches to MozDef with libcurl multi (keep-alive,
// up to http_max_inflight transfers at once) and reports each answer: 2xx delivered; 5xx, 408,
// 429, timeouts and connection/TLS errors retry; any other status rejected (see retry_policy.h).
// The body is framed per bulk_format (output/http/bulk_format.h). Owned by the engine's thread;
// wakeup() is thread-safe.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "output/clock.h"
#include "output/delivery_engine.h"
#include "output/http/bulk_format.h"
#include "output/spool.h"
#include "output/tls_config.h"

namespace aurelay::output {

// Default of http_max_inflight (the option table formats this same constant; the batching
// defaults are the engine's, output/delivery_engine.h).
inline constexpr unsigned kDefaultHttpMaxInflight = 4;

struct HttpSinkConfig {
  // mozdef_url / --output: the full URL POSTed to, e.g. https://mozdef:8080/_bulk for array and
  // ndjson or https://mozdef:8080/events for single (see output/http/bulk_format.h). Required.
  std::string url;
  // "user:password" for HTTP basic authentication (http_credentials_file); empty: the URL's own
  // user information, if any. Never logged: logs show redact_url_credentials(url).
  std::string credentials;
  unsigned http_max_inflight = kDefaultHttpMaxInflight;  // concurrent POSTs (keep-alive conns)
  BulkFormat bulk_format = kDefaultBulkFormat;
  long request_timeout_ms = 30000;  // whole request (connect + send + answer)
  long connect_timeout_ms = 10000;
  bool curl_verbose = false;  // libcurl's verbose trace...
  std::string curl_logfile;   // ...to this file (appended), stderr when empty
  TlsConfig tls;              // audisp-json's keys: verify peer and host by default
  // Batching (documents and body bytes per POST; single: always 1), retry, spool (empty spool_dir
  // = memory only: overflow and shutdown leftovers are dropped and counted), dead letter.
  DeliveryConfig delivery;
};

class HttpTransport final : public Transport {
 public:
  HttpTransport(const HttpSinkConfig& config, Clock& clock);
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Checks the URL, opens the curl log file and the curl handles.
  Status open() override;
  const std::string& destination() const override { return display_url_; }
  bool connect(DeliveryReports& /*reports*/) override { return true; }
  bool can_take_batch(bool probing) const override;
  void send(OutgoingBatch&& batch, DeliveryReports& reports) override;
  void progress(int wait_ms, DeliveryReports& reports) override;
  void wakeup() override;
  std::size_t batches_in_flight() const override;
  std::uint64_t documents_in_flight() const override;
  std::int64_t oldest_unanswered_ms() const override;
  std::uint64_t take_unfinished(std::vector<OutgoingBatch>& out) override;
  void reopen() override;  // curl log file

 private:
  struct Transfer {
    CURL* easy = nullptr;
    bool busy = false;
    std::int64_t started_ms = 0;
    OutgoingBatch batch;
    std::string body;  // array framing (others post from batch.ndjson)
    std::string response;
    char error[CURL_ERROR_SIZE] = {};
  };

  Status check_url();
  Status open_curl_log();
  Status open_transfers();
  void configure_easy(Transfer& transfer);
  void drain_messages(DeliveryReports& reports);
  void finish(Transfer& transfer, CURLcode code, DeliveryReports& reports);

  HttpSinkConfig config_;
  Clock& clock_;
  CURLM* multi_ = nullptr;
  curl_slist* json_headers_ = nullptr;    // Content-Type: application/json
  curl_slist* ndjson_headers_ = nullptr;  // Content-Type: application/x-ndjson
  FILE* curl_log_ = nullptr;
  std::string display_url_;  // url without its credentials, for logs and errors
  std::vector<std::unique_ptr<Transfer>> transfers_;
};

}  // namespace aurelay::output
