#include "output/http/http_transport.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "output/url_credentials.h"

namespace aurelay::output {

namespace {

// curl's verbose output, as curl prints it ("* " info, "> " request headers, "< " response
// headers; bodies left out), with the Authorization header masked. `userp` is the sink's FILE*
// member (curl_logfile), stderr when it is null.
int write_curl_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* userp) {
  FILE* out = *static_cast<FILE**>(userp);
  if (out == nullptr) out = stderr;
  const char* prefix = nullptr;
  switch (type) {
    case CURLINFO_TEXT:
      prefix = "* ";
      break;
    case CURLINFO_HEADER_OUT:
      prefix = "> ";
      break;
    case CURLINFO_HEADER_IN:
      prefix = "< ";
      break;
    default:
      return 0;  // bodies and TLS data
  }
  std::string_view text(data, size);
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    const std::string shown = redact_authorization_header(line);
    std::fputs(prefix, out);
    std::fwrite(shown.data(), 1, shown.size(), out);
    if (shown.empty() || shown.back() != '\n') std::fputc('\n', out);
    text.remove_prefix(line.size());
  }
  return 0;
}

constexpr std::size_t kResponseKeep = 512;

void curl_global_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t discard_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<std::string*>(user);
  std::size_t bytes = size * count;
  if (response->size() < kResponseKeep) {
    response->append(data, std::min(bytes, kResponseKeep - response->size()));
  }
  return bytes;
}

}  // namespace

HttpTransport::HttpTransport(const HttpSinkConfig& config, Clock& clock)
    : config_(config), clock_(clock) {}

HttpTransport::~HttpTransport() {
  for (auto& transfer : transfers_) {
    if (transfer->easy != nullptr) {
      if (transfer->busy) curl_multi_remove_handle(multi_, transfer->easy);
      curl_easy_cleanup(transfer->easy);
    }
  }
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  if (json_headers_ != nullptr) curl_slist_free_all(json_headers_);
  if (ndjson_headers_ != nullptr) curl_slist_free_all(ndjson_headers_);
  if (curl_log_ != nullptr) std::fclose(curl_log_);
}

Status HttpTransport::open() {
  Status status = check_url();
  if (status) status = open_curl_log();
  if (status) status = open_transfers();
  return status;
}

// A URL with an http(s) scheme.
Status HttpTransport::check_url() {
  if (config_.url.empty()) return fail("http sink: no URL configured");
  display_url_ = redact_url_credentials(config_.url);
  curl_global_once();
  CURLU* parsed = curl_url();
  CURLUcode rc = curl_url_set(parsed, CURLUPART_URL, config_.url.c_str(), 0);
  char* scheme = nullptr;
  if (rc == CURLUE_OK) curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
  bool http =
      scheme != nullptr && (std::strcmp(scheme, "http") == 0 || std::strcmp(scheme, "https") == 0);
  curl_free(scheme);
  curl_url_cleanup(parsed);
  if (!http) return fail("http sink: not an http(s) URL: " + display_url_);
  return {};
}

Status HttpTransport::open_curl_log() {
  if (!config_.curl_verbose || config_.curl_logfile.empty()) return {};
  curl_log_ = std::fopen(config_.curl_logfile.c_str(), "ae");
  if (curl_log_ == nullptr) {
    return fail("http sink: cannot open curl_logfile " + config_.curl_logfile + ": " +
                std::strerror(errno));
  }
  return {};
}

// The multi handle and one easy handle per concurrent POST (keep-alive connections).
Status HttpTransport::open_transfers() {
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return fail("http sink: curl_multi_init failed");
  const unsigned count = std::max(1u, config_.http_max_inflight);
  const long inflight = static_cast<long>(count);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, inflight);
  // "Expect:": no 100-continue round trip.
  json_headers_ = curl_slist_append(json_headers_, "Content-Type: application/json");
  json_headers_ = curl_slist_append(json_headers_, "Expect:");
  ndjson_headers_ = curl_slist_append(ndjson_headers_, "Content-Type: application/x-ndjson");
  ndjson_headers_ = curl_slist_append(ndjson_headers_, "Expect:");
  for (unsigned i = 0; i < count; ++i) {
    auto transfer = std::make_unique<Transfer>();
    transfer->easy = curl_easy_init();
    if (transfer->easy == nullptr) return fail("http sink: curl_easy_init failed");
    configure_easy(*transfer);
    transfers_.push_back(std::move(transfer));
  }
  return {};
}

void HttpTransport::configure_easy(Transfer& transfer) {
  CURL* easy = transfer.easy;
  curl_easy_setopt(easy, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, config_.request_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, config_.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, config_.tls.verify ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, config_.tls.verify ? 2L : 0L);
  if (!config_.tls.ca_file.empty())
    curl_easy_setopt(easy, CURLOPT_CAINFO, config_.tls.ca_file.c_str());
  if (!config_.tls.client_cert.empty())
    curl_easy_setopt(easy, CURLOPT_SSLCERT, config_.tls.client_cert.c_str());
  if (!config_.tls.client_key.empty())
    curl_easy_setopt(easy, CURLOPT_SSLKEY, config_.tls.client_key.c_str());
  if (!config_.credentials.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(easy, CURLOPT_USERPWD, config_.credentials.c_str());
  }
  if (config_.curl_verbose) {
    curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
    // curl's own verbose printer would show the Authorization header (base64 of
    // user:password): print through a filter instead.
    curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, write_curl_debug);
    curl_easy_setopt(easy, CURLOPT_DEBUGDATA, &curl_log_);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer.response);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
}

void HttpTransport::wakeup() {
  if (multi_ != nullptr) curl_multi_wakeup(multi_);
}

void HttpTransport::reopen() {
  if (curl_log_ == nullptr) return;
  FILE* fresh = std::fopen(config_.curl_logfile.c_str(), "ae");
  if (fresh != nullptr) {
    std::fclose(curl_log_);
    curl_log_ = fresh;
  }
}

std::size_t HttpTransport::batches_in_flight() const {
  std::size_t busy = 0;
  for (const auto& transfer : transfers_) busy += transfer->busy ? 1 : 0;
  return busy;
}

std::uint64_t HttpTransport::documents_in_flight() const {
  std::uint64_t documents = 0;
  for (const auto& transfer : transfers_) documents += transfer->busy ? transfer->batch.count : 0;
  return documents;
}

std::int64_t HttpTransport::oldest_unanswered_ms() const {
  std::int64_t oldest = -1;
  for (const auto& transfer : transfers_) {
    if (transfer->busy && (oldest < 0 || transfer->started_ms < oldest)) {
      oldest = transfer->started_ms;
    }
  }
  return oldest;
}

// While probing, one transfer at a time.
bool HttpTransport::can_take_batch(bool probing) const {
  return batches_in_flight() < (probing ? 1 : transfers_.size());
}

void HttpTransport::send(OutgoingBatch&& batch, DeliveryReports& /*reports*/) {
  auto free = std::find_if(transfers_.begin(), transfers_.end(),
                           [](const auto& transfer) { return !transfer->busy; });
  Transfer& transfer = **free;
  transfer.batch = std::move(batch);
  transfer.started_ms = clock_.steady_ms();
  transfer.response.clear();
  transfer.error[0] = '\0';
  const std::string& ndjson = transfer.batch.ndjson;
  const char* body = ndjson.data();
  std::size_t size = ndjson.empty() ? 0 : ndjson.size() - 1;  // without the last '\n'
  curl_slist* headers = json_headers_;
  // ndjson never posts a one-line body: loginput's /_bulk parses it as one object and publishes
  // its keys instead of the document. A batch of one goes as the array [doc].
  bool as_array = config_.bulk_format == BulkFormat::array ||
                  (config_.bulk_format == BulkFormat::ndjson && transfer.batch.count <= 1);
  if (as_array) {
    std::string& framed = transfer.body;
    framed.resize(ndjson.size() + 1);
    framed[0] = '[';
    std::memcpy(framed.data() + 1, ndjson.data(), ndjson.size());
    char* p = framed.data() + 1;
    char* end = framed.data() + framed.size() - 1;  // the last '\n' becomes ']'
    while ((p = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))))) {
      *p++ = ',';
    }
    framed.back() = ']';
    body = framed.data();
    size = framed.size();
  } else if (config_.bulk_format == BulkFormat::ndjson) {
    size = ndjson.size();
    headers = ndjson_headers_;
  }
  curl_easy_setopt(transfer.easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(transfer.easy, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(transfer.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  transfer.busy = true;
  curl_multi_add_handle(multi_, transfer.easy);
}

void HttpTransport::finish(Transfer& transfer, CURLcode code, DeliveryReports& reports) {
  curl_multi_remove_handle(multi_, transfer.easy);
  transfer.busy = false;
  OutgoingBatch batch = std::move(transfer.batch);
  transfer.batch = OutgoingBatch();
  long status = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
  const bool transport_error = code != CURLE_OK;
  increment(stats().output_requests);
  set(stats().last_http_status, transport_error ? 0 : status);
  switch (classify_delivery(status, transport_error)) {
    case DeliveryOutcome::delivered:
      reports.delivered(std::move(batch));
      return;
    case DeliveryOutcome::retry:
      if (transport_error) {
        increment(stats().output_transport_errors);
        reports.retry(std::move(batch), 0,
                      display_url_ + ": " +
                          (transfer.error[0] != '\0' ? std::string(transfer.error)
                                                     : std::string(curl_easy_strerror(code))));
      } else {
        reports.retry(std::move(batch), 0,
                      display_url_ + " answered HTTP " + std::to_string(status) + ": " +
                          transfer.response.substr(0, 200));
      }
      return;
    case DeliveryOutcome::rejected:
      reports.rejected(std::move(batch), display_url_ + " rejected a document with HTTP " +
                                             std::to_string(status) + ": " +
                                             transfer.response.substr(0, 200));
      return;
  }
}

void HttpTransport::drain_messages(DeliveryReports& reports) {
  int remaining = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &remaining)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&transfer));
    if (transfer != nullptr) finish(*transfer, message->data.result, reports);
  }
}

void HttpTransport::progress(int wait_ms, DeliveryReports& reports) {
  if (wait_ms > 0) curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
  int running = 0;
  curl_multi_perform(multi_, &running);
  drain_messages(reports);
}

std::uint64_t HttpTransport::take_unfinished(std::vector<OutgoingBatch>& out) {
  for (auto& transfer : transfers_) {
    if (!transfer->busy) continue;
    curl_multi_remove_handle(multi_, transfer->easy);
    transfer->busy = false;
    out.push_back(std::move(transfer->batch));
    transfer->batch = OutgoingBatch();
  }
  return 0;  // a POST is answered as a whole
}

}  // namespace aurelay::output
