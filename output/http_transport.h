// HTTP(S) transport of the delivery engine: POSTs batches to MozDef with libcurl multi (keep-alive,
// up to http_max_inflight transfers at once) and reports each answer: 2xx delivered; 5xx, 408,
// 429, timeouts and connection/TLS errors retry; any other status rejected (see retry_policy.h).
// The body is framed per bulk_format (output/bulk_format.h). Owned by the engine's thread;
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

namespace aurelay::output {

struct HttpSinkConfig;

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
  void add_stats(SinkStats& stats) const override;

  std::uint64_t requests() const { return requests_; }
  std::uint64_t transport_errors() const { return transport_errors_; }
  std::int64_t last_http_status() const { return last_http_status_; }

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

  const HttpSinkConfig& config_;
  Clock& clock_;
  CURLM* multi_ = nullptr;
  curl_slist* json_headers_ = nullptr;    // Content-Type: application/json
  curl_slist* ndjson_headers_ = nullptr;  // Content-Type: application/x-ndjson
  FILE* curl_log_ = nullptr;
  std::string display_url_;  // url without its credentials, for logs and errors
  std::vector<std::unique_ptr<Transfer>> transfers_;

  std::uint64_t requests_ = 0;  // POSTs finished (any outcome)
  std::uint64_t transport_errors_ = 0;
  std::int64_t last_http_status_ = 0;  // 0 = no answer (transport error) or nothing sent yet
};

}  // namespace aurelay::output
