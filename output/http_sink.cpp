#include "output/http_sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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

HttpSink::HttpSink(HttpSinkConfig config, Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      retry_policy_(config_.retry_base_ms, config_.retry_max_ms),
      dead_letter_(config_.dead_letter_file) {}

HttpSink::HttpSink(HttpSinkConfig config, Clock& clock, RetryPolicy::RandomSource random)
    : config_(std::move(config)),
      clock_(clock),
      retry_policy_(config_.retry_base_ms, config_.retry_max_ms, std::move(random)),
      dead_letter_(config_.dead_letter_file) {}

HttpSink::~HttpSink() {
  if (opened_) spill_leftovers();
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

Status HttpSink::open() {
  if (opened_) return {};
  for (Status (HttpSink::*step)() : {&HttpSink::check_config, &HttpSink::open_spool,
                                     &HttpSink::open_curl_log, &HttpSink::open_transfers}) {
    if (Status status = (this->*step)(); !status) return status;
  }
  opened_ = true;
  return {};
}

Status HttpSink::fail_open(std::string message) {
  last_error_ = message;
  return fail(std::move(message));
}

// A URL with an http(s) scheme; counts of at least 1; `single` posts one document at a time.
Status HttpSink::check_config() {
  if (config_.url.empty()) return fail_open("http sink: no URL configured");
  display_url_ = redact_url_credentials(config_.url);
  if (config_.http_max_inflight == 0) config_.http_max_inflight = 1;
  if (config_.batch_max_events == 0) config_.batch_max_events = 1;
  if (config_.bulk_format == BulkFormat::single) config_.batch_max_events = 1;
  if (config_.batch_max_bytes == 0) config_.batch_max_bytes = 1;
  curl_global_once();
  CURLU* parsed = curl_url();
  CURLUcode rc = curl_url_set(parsed, CURLUPART_URL, config_.url.c_str(), 0);
  char* scheme = nullptr;
  if (rc == CURLUE_OK) curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
  bool http =
      scheme != nullptr && (std::strcmp(scheme, "http") == 0 || std::strcmp(scheme, "https") == 0);
  curl_free(scheme);
  curl_url_cleanup(parsed);
  if (!http) return fail_open("http sink: not an http(s) URL: " + display_url_);
  return {};
}

// The spool, when configured, indexing what a previous run left (it is sent first).
Status HttpSink::open_spool() {
  if (config_.spool_dir.empty()) return {};
  Result<std::unique_ptr<Spool>> spool =
      open_sink_spool("http sink", {.dir = config_.spool_dir,
                                    .max_bytes = config_.spool_max_bytes,
                                    .segment_max_bytes = config_.spool_segment_bytes,
                                    .full_action = config_.spool_full_action,
                                    .fsync = config_.spool_fsync});
  if (!spool) return fail_open(spool.error());
  spool_ = std::move(spool).value();
  return {};
}

Status HttpSink::open_curl_log() {
  if (!config_.curl_verbose || config_.curl_logfile.empty()) return {};
  curl_log_ = std::fopen(config_.curl_logfile.c_str(), "ae");
  if (curl_log_ == nullptr) {
    return fail_open("http sink: cannot open curl_logfile " + config_.curl_logfile + ": " +
                     std::strerror(errno));
  }
  return {};
}

// The multi handle and one easy handle per concurrent POST (keep-alive connections).
Status HttpSink::open_transfers() {
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return fail_open("http sink: curl_multi_init failed");
  long inflight = static_cast<long>(config_.http_max_inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, inflight);
  // "Expect:": no 100-continue round trip.
  json_headers_ = curl_slist_append(json_headers_, "Content-Type: application/json");
  json_headers_ = curl_slist_append(json_headers_, "Expect:");
  ndjson_headers_ = curl_slist_append(ndjson_headers_, "Content-Type: application/x-ndjson");
  ndjson_headers_ = curl_slist_append(ndjson_headers_, "Expect:");
  for (unsigned i = 0; i < config_.http_max_inflight; ++i) {
    auto transfer = std::make_unique<Transfer>();
    transfer->easy = curl_easy_init();
    if (transfer->easy == nullptr) return fail_open("http sink: curl_easy_init failed");
    configure_easy(*transfer);
    transfers_.push_back(std::move(transfer));
  }
  return {};
}

void HttpSink::configure_easy(Transfer& transfer) {
  CURL* easy = transfer.easy;
  curl_easy_setopt(easy, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, config_.request_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, config_.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, config_.ssl_verify ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, config_.ssl_verify ? 2L : 0L);
  if (!config_.curl_cainfo.empty())
    curl_easy_setopt(easy, CURLOPT_CAINFO, config_.curl_cainfo.c_str());
  if (!config_.client_cert.empty())
    curl_easy_setopt(easy, CURLOPT_SSLCERT, config_.client_cert.c_str());
  if (!config_.client_key.empty())
    curl_easy_setopt(easy, CURLOPT_SSLKEY, config_.client_key.c_str());
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

std::int64_t HttpSink::now_ms() const { return clock_.steady_ms(); }

std::uint64_t HttpSink::memory_documents() const {
  return open_.count + ready_documents_ + retry_documents_;
}

std::size_t HttpSink::in_flight() const {
  std::size_t busy = 0;
  for (const auto& transfer : transfers_) busy += transfer->busy ? 1 : 0;
  return busy;
}

bool HttpSink::idle() const {
  return open_.count == 0 && ready_.empty() && retry_.empty() && in_flight() == 0 &&
         (spool_ == nullptr || spool_->empty());
}

void HttpSink::wakeup() {
  if (multi_ != nullptr) curl_multi_wakeup(multi_);
}

void HttpSink::reopen() {
  dead_letter_.reopen();
  if (curl_log_ != nullptr) {
    FILE* fresh = std::fopen(config_.curl_logfile.c_str(), "ae");
    if (fresh != nullptr) {
      std::fclose(curl_log_);
      curl_log_ = fresh;
    }
  }
}

SinkStatus HttpSink::write(const DocumentBatch& batch) {
  if (!opened_) {
    last_error_ = "http sink: write before open";
    return SinkStatus::failed;
  }
  const std::size_t count = batch.count();
  std::size_t i = 0;
  while (i < count) {
    if (open_.count == 0) {
      open_since_ms_ = now_ms();
      open_.oldest_ms = batch.oldest_event_ms();
    } else if (batch.oldest_event_ms() != 0 &&
               (open_.oldest_ms == 0 || batch.oldest_event_ms() < open_.oldest_ms)) {
      open_.oldest_ms = batch.oldest_event_ms();
    }
    // Fast path: the whole batch fits the open one.
    if (i == 0 && open_.count + count <= config_.batch_max_events &&
        open_.ndjson.size() + batch.byte_size() <= config_.batch_max_bytes) {
      open_.ndjson.append(batch.data());
      open_.count += static_cast<std::uint32_t>(count);
      break;
    }
    std::string_view document = batch.document(i);
    if (open_.count > 0 && (open_.count + 1 > config_.batch_max_events ||
                            open_.ndjson.size() + document.size() + 1 > config_.batch_max_bytes)) {
      seal_open();
      continue;
    }
    open_.ndjson.append(document);
    open_.ndjson.push_back('\n');
    open_.count += 1;
    ++i;
    if (open_.count >= config_.batch_max_events) seal_open();
  }
  if (open_.count >= config_.batch_max_events || open_.ndjson.size() >= config_.batch_max_bytes) {
    seal_open();
  }
  // The batch is taken: queued, spooled, or dropped under the configured spool_full_action
  // (counted and warned where it happens). Reporting failure here would make the caller write
  // the same documents again.
  return SinkStatus::ok;
}

void HttpSink::seal_open() {
  if (open_.count == 0) return;
  OutBatch sealed;
  std::swap(sealed, open_);
  open_.ndjson.reserve(std::min<std::size_t>(sealed.ndjson.capacity(), config_.batch_max_bytes));
  sealed.seq = next_seq_++;
  enqueue_sealed(std::move(sealed));
}

void HttpSink::enqueue_sealed(OutBatch&& batch) {
  bool failing = consecutive_failures_ > 0;
  bool memory_full = memory_documents() + batch.count > config_.memory_max_documents;
  if (spool_ != nullptr && (failing || memory_full)) {
    // Kept, or dropped because the spool is full (counted): done. On an I/O error keep it in
    // memory rather than lose it.
    if (spool_batch(batch) != SpoolAppendResult::io_error) return;
  } else if (spool_ == nullptr && memory_full) {
    counters_.dropped_queue_full += batch.count;
    last_error_ = "http sink: memory queue full and no spool: documents dropped";
    spool_log_.warn(now_ms(), last_error_);
    return;
  }
  ready_documents_ += batch.count;
  ready_.push_back(std::move(batch));
}

// Writes a batch to the spool. Not written: spool full with drop_newest (counted as dropped) or
// an I/O error (counted, last_error set).
SpoolAppendResult HttpSink::spool_batch(const OutBatch& batch) {
  SpoolWrite written = output::spool_batch(*spool_, batch.count, batch.oldest_ms, batch.ndjson);
  counters_.spooled += written.spooled;
  counters_.dropped_spool_full += written.dropped_spool_full;
  if (!written.problem.empty()) {
    last_error_ = "http sink: " + written.problem;
    spool_log_.warn(now_ms(), last_error_);
  }
  return written.result;
}

bool HttpSink::next_batch(OutBatch& out) {
  if (!retry_.empty()) {
    out = std::move(retry_.front());
    retry_.pop_front();
    retry_documents_ -= out.count;
    return true;
  }
  auto from_spool = [&]() {
    if (spool_ == nullptr) return false;
    SpoolRecord record;
    if (!spool_->read_next(record)) return false;
    std::optional<SpooledBatch> spooled = read_spooled_batch(std::move(record.payload));
    if (!spooled) {
      spool_->ack(record.segment_id);
      return false;
    }
    out.oldest_ms = spooled->oldest_ms;
    out.ndjson = std::move(spooled->ndjson);
    out.count = record.items;
    out.spool_segment = record.segment_id;
    out.seq = next_seq_++;
    counters_.unspooled += out.count;
    return true;
  };
  auto from_ready = [&]() {
    if (ready_.empty()) return false;
    out = std::move(ready_.front());
    ready_.pop_front();
    ready_documents_ -= out.count;
    return true;
  };
  // Spool and live batches take turns, the spool first (what a previous run left goes first).
  bool spool_first = spool_turn_;
  spool_turn_ = !spool_turn_;
  if (spool_first) return from_spool() || from_ready();
  return from_ready() || from_spool();
}

void HttpSink::start_transfers() {
  if (now_ms() < backoff_until_ms_) return;
  // While failing, probe with one transfer at a time.
  std::size_t limit = consecutive_failures_ > 0 ? 1 : transfers_.size();
  std::size_t busy = in_flight();
  for (auto& transfer : transfers_) {
    if (busy >= limit) break;
    if (transfer->busy) continue;
    OutBatch batch;
    if (!next_batch(batch)) break;
    // `single` sends one document per POST; a batch of several can still come from a spool
    // written with another bulk_format: split it until each document goes alone.
    while (config_.bulk_format == BulkFormat::single && batch.count > 1) {
      if (!split_in_halves(std::move(batch)) || !next_batch(batch)) return;
    }
    start(*transfer, std::move(batch));
    ++busy;
  }
}

void HttpSink::start(Transfer& transfer, OutBatch&& batch) {
  transfer.batch = std::move(batch);
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

// Puts the two halves of a batch of several documents first in line to be sent. A batch from
// the spool is replaced there by its halves (durable before the original is let go); when the
// spool cannot take them, the halves wait in memory and the original stays unacked. False when
// the batch holds fewer than two documents (nothing done).
bool HttpSink::split_in_halves(OutBatch&& batch) {
  if (batch.count < 2) return false;
  std::size_t half = batch.count / 2;
  std::size_t cut = 0;
  for (std::size_t k = 0; k < half; ++k) cut = batch.ndjson.find('\n', cut) + 1;
  OutBatch first;
  OutBatch second;
  first.ndjson = batch.ndjson.substr(0, cut);
  second.ndjson = batch.ndjson.substr(cut);
  first.count = static_cast<std::uint32_t>(half);
  second.count = batch.count - first.count;
  first.oldest_ms = second.oldest_ms = batch.oldest_ms;
  if (batch.spool_segment != 0) {
    bool kept = spool_batch(first) == SpoolAppendResult::appended &&
                spool_batch(second) == SpoolAppendResult::appended;
    if (kept) {
      spool_->ack(batch.spool_segment);
      return true;
    }
    first.spool_segment = 0;
  }
  first.seq = batch.seq;
  second.seq = batch.seq;
  // Same seq: each insert goes after the equal ones, so first stays before second.
  requeue_front(std::move(first));
  requeue_front(std::move(second));
  return true;
}

void HttpSink::requeue_front(OutBatch&& batch) {
  retry_documents_ += batch.count;
  auto at = std::upper_bound(retry_.begin(), retry_.end(), batch.seq,
                             [](std::uint64_t seq, const OutBatch& b) { return seq < b.seq; });
  retry_.insert(at, std::move(batch));
}

void HttpSink::record_latency(std::uint64_t oldest_ms) {
  latency_.record(oldest_ms, clock_.wall_ms());
}

void HttpSink::finish(Transfer& transfer, CURLcode code) {
  curl_multi_remove_handle(multi_, transfer.easy);
  transfer.busy = false;
  OutBatch batch = std::move(transfer.batch);
  transfer.batch = OutBatch();
  long status = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
  bool transport_error = code != CURLE_OK;
  ++counters_.requests;
  counters_.last_http_status = transport_error ? 0 : status;
  switch (classify_delivery(status, transport_error)) {
    case DeliveryOutcome::delivered:
      on_delivered(std::move(batch));
      return;
    case DeliveryOutcome::retry:
      on_retry(transfer, std::move(batch), code, transport_error ? 0 : status);
      return;
    case DeliveryOutcome::rejected:
      on_rejected(transfer, std::move(batch), status);
      return;
  }
}

void HttpSink::on_delivered(OutBatch&& batch) {
  counters_.delivered += batch.count;
  ++counters_.delivered_batches;
  record_latency(batch.oldest_ms);
  if (batch.spool_segment != 0) spool_->ack(batch.spool_segment);
  if (consecutive_failures_ > 0) {
    spdlog::info("http sink: {} answers again after {} failed attempt(s)", display_url_,
                 consecutive_failures_);
  }
  consecutive_failures_ = 0;
  backoff_until_ms_ = 0;
}

// `status` is 0 for a transport error (no answer).
void HttpSink::on_retry(const Transfer& transfer, OutBatch&& batch, CURLcode code, long status) {
  ++counters_.retried;
  counters_.retried_documents += batch.count;
  if (status == 0) {
    ++counters_.transport_errors;
    last_error_ =
        "http sink: " + display_url_ + ": " +
        (transfer.error[0] ? std::string(transfer.error) : std::string(curl_easy_strerror(code)));
  } else {
    last_error_ = "http sink: " + display_url_ + " answered HTTP " + std::to_string(status) + ": " +
                  transfer.response.substr(0, 200);
  }
  ++consecutive_failures_;
  std::uint64_t delay = retry_policy_.delay_ms(consecutive_failures_);
  backoff_until_ms_ = now_ms() + static_cast<std::int64_t>(delay);
  retry_log_.warn(now_ms(), last_error_ + " (will retry, " + std::to_string(consecutive_failures_) +
                                " consecutive failure(s))");
  // A fresh batch goes to the spool (durable, replayed in order); kept in memory only when the
  // spool cannot write. A batch from the spool waits in memory (it is still on disk).
  if (batch.spool_segment == 0 && spool_ != nullptr &&
      spool_batch(batch) != SpoolAppendResult::io_error) {
    return;
  }
  requeue_front(std::move(batch));
}

void HttpSink::on_rejected(const Transfer& transfer, OutBatch&& batch, long status) {
  consecutive_failures_ = 0;
  backoff_until_ms_ = 0;
  if (batch.count > 1) {
    // Isolate the rejected documents: re-send each half.
    ++counters_.rejected_splits;
    split_in_halves(std::move(batch));
    return;
  }
  counters_.rejected += batch.count;
  last_error_ = "http sink: " + display_url_ + " rejected a document with HTTP " +
                std::to_string(status) + ": " + transfer.response.substr(0, 200);
  reject_log_.warn(
      now_ms(), last_error_ + (dead_letter_.enabled() ? " (written to " + dead_letter_.path() + ")"
                                                      : std::string(" (dropped)")));
  if (dead_letter_.write(batch.ndjson, batch.count)) {
    if (dead_letter_.enabled()) counters_.dead_lettered += batch.count;
  } else {
    ++counters_.dead_letter_errors;
    reject_log_.warn(now_ms(), "http sink: " + dead_letter_.last_error());
  }
  if (batch.spool_segment != 0) spool_->ack(batch.spool_segment);
}

void HttpSink::drain_messages() {
  int remaining = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &remaining)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&transfer));
    if (transfer != nullptr) finish(*transfer, message->data.result);
  }
}

// A connection is free, no sealed batch waits ahead and the sink is not backing off: a batch
// sealed now is sent now.
bool HttpSink::connection_free() const {
  return consecutive_failures_ == 0 && in_flight() < transfers_.size() && ready_.empty() &&
         retry_.empty();
}

// The open batch leaves when a connection is free (a quiet host does not wait) or once it is
// batch_flush_ms old (it filled while every connection was busy). A full one was sealed by
// write().
bool HttpSink::open_batch_due(std::int64_t now) const {
  if (open_.count == 0) return false;
  return connection_free() || now - open_since_ms_ >= config_.batch_flush_ms;
}

void HttpSink::seal_open_if_due() {
  if (open_batch_due(now_ms())) seal_open();
}

// Starts what can start, lets curl move the transfers on, handles the finished ones (a finished
// POST frees a connection: the open batch can go), and starts again.
void HttpSink::move_transfers_along() {
  seal_open_if_due();
  start_transfers();
  int running = 0;
  curl_multi_perform(multi_, &running);
  drain_messages();
  seal_open_if_due();
  start_transfers();
}

// How long poll() may block: until a socket or wake-up, the end of the backoff, or the open
// batch's deadline, at most `max_wait_ms`.
std::int64_t HttpSink::wait_ms(int max_wait_ms) const {
  std::int64_t wait = std::max(0, max_wait_ms);
  std::int64_t now = now_ms();
  bool work_waiting = !retry_.empty() || !ready_.empty() || (spool_ && spool_->has_unread());
  if (work_waiting && backoff_until_ms_ > now) {
    wait = std::min(wait, backoff_until_ms_ - now);
  } else if (work_waiting && in_flight() < transfers_.size() && consecutive_failures_ == 0) {
    wait = 0;
  }
  if (open_.count > 0) {
    wait = std::min<std::int64_t>(
        wait, std::max<std::int64_t>(0, open_since_ms_ + config_.batch_flush_ms - now));
  }
  return wait;
}

void HttpSink::poll(int max_wait_ms) {
  if (!opened_) return;
  move_transfers_along();
  std::int64_t wait = wait_ms(max_wait_ms);
  // With nothing in flight only the sink's own timers end the wait: the clock decides how long
  // that really is (a test's virtual clock jumps there at once).
  if (in_flight() == 0) wait = clock_.idle_wait(wait);
  curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait), nullptr);
  move_transfers_along();
  if (spool_ != nullptr) spool_->sync();
}

bool HttpSink::flush(int deadline_ms) {
  if (!opened_) return false;
  seal_open();
  std::int64_t deadline = now_ms() + std::max(0, deadline_ms);
  while (!idle()) {
    std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    poll(static_cast<int>(std::min<std::int64_t>(left, 50)));
  }
  if (idle()) return true;
  spill_leftovers();
  return false;
}

// Everything in memory or in flight goes to the spool (or is counted as dropped without one).
// Batches read from the spool stay there, unacked: the next start sends them again.
void HttpSink::spill_leftovers() {
  seal_open();
  std::vector<OutBatch> leftovers;
  for (auto& transfer : transfers_) {
    if (!transfer->busy) continue;
    curl_multi_remove_handle(multi_, transfer->easy);
    transfer->busy = false;
    if (transfer->batch.spool_segment == 0) leftovers.push_back(std::move(transfer->batch));
    transfer->batch = OutBatch();
  }
  for (auto& batch : retry_) {
    if (batch.spool_segment == 0) leftovers.push_back(std::move(batch));
  }
  retry_.clear();
  retry_documents_ = 0;
  for (auto& batch : ready_) leftovers.push_back(std::move(batch));
  ready_.clear();
  ready_documents_ = 0;
  std::sort(leftovers.begin(), leftovers.end(),
            [](const OutBatch& a, const OutBatch& b) { return a.seq < b.seq; });
  std::uint64_t lost = 0;
  for (const OutBatch& batch : leftovers) {
    if (spool_ == nullptr) {
      lost += batch.count;
    } else {
      SpoolAppendResult result = spool_batch(batch);
      if (result == SpoolAppendResult::dropped_newest) lost += batch.count;  // counted already
      if (result == SpoolAppendResult::io_error) {
        lost += batch.count;
        counters_.dropped_unsent += batch.count;
      }
    }
  }
  if (spool_ == nullptr) counters_.dropped_unsent += lost;
  if (lost > 0) {
    spdlog::warn("http sink: {} document(s) could not be kept for the next start", lost);
  }
  if (spool_ != nullptr) spool_->sync();
}

const HttpSinkCounters& HttpSink::counters() {
  counters_.output_queued = memory_documents();
  counters_.batches_in_flight = in_flight();
  if (spool_ != nullptr) {
    const SpoolCounters& spool = spool_->counters();
    counters_.spool_bytes = spool.bytes;
    counters_.spool_segments = spool.segments;
    counters_.spool_corrupt_records = spool.corrupt_records;
    counters_.spool_corrupt_bytes = spool.corrupt_bytes;
    counters_.spool_write_errors = spool.write_errors;
  }
  counters_.latency_p50_ms = latency_.p50();
  counters_.latency_p99_ms = latency_.p99();
  return counters_;
}

SinkStats HttpSink::stats() {
  const HttpSinkCounters& c = counters();
  SinkStats stats;
  stats.delivered = c.delivered;
  stats.retried = c.retried;
  stats.rejected = c.rejected;
  stats.dropped = c.dropped_queue_full + c.dropped_unsent + c.dropped_spool_full;
  stats.dropped_spool_full = c.dropped_spool_full;
  stats.queued = c.output_queued;
  stats.batches_in_flight = c.batches_in_flight;
  stats.spool_bytes = c.spool_bytes;
  stats.spool_segments = c.spool_segments;
  stats.last_status = c.last_http_status;
  stats.latency_p50_ms = c.latency_p50_ms;
  stats.latency_p99_ms = c.latency_p99_ms;
  stats.delivered_batches = c.delivered_batches;
  stats.requests = c.requests;
  stats.transport_errors = c.transport_errors;
  stats.retried_documents = c.retried_documents;
  stats.rejected_splits = c.rejected_splits;
  stats.dead_lettered = c.dead_lettered;
  stats.dead_letter_errors = c.dead_letter_errors;
  stats.spooled = c.spooled;
  stats.unspooled = c.unspooled;
  stats.spool_corrupt_records = c.spool_corrupt_records;
  stats.spool_corrupt_bytes = c.spool_corrupt_bytes;
  stats.spool_write_errors = c.spool_write_errors;
  stats.dropped_queue_full = c.dropped_queue_full;
  return stats;
}

}  // namespace aurelay::output
