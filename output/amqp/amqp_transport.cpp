#include "output/amqp/amqp_transport.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace aurelay::output {

// Turns the publisher's reports into resolutions of the window.
class AmqpTransport::ConfirmHandler final : public AmqpPublisher::Handler {
 public:
  explicit ConfirmHandler(AmqpTransport& transport) : transport_(transport) {}
  void on_ack(std::uint64_t tag, bool multiple) override {
    transport_.waiting_since_ms_ = transport_.clock_.steady_ms();
    if (multiple)
      transport_.resolve_up_to(tag, true);
    else
      transport_.resolve(tag, true);
  }
  void on_nack(std::uint64_t tag, bool multiple) override {
    transport_.waiting_since_ms_ = transport_.clock_.steady_ms();
    transport_.failure_ = "broker " + transport_.destination() +
                          " nacked documents (basic.nack: it could not take them)";
    const std::uint64_t before = transport_.unresolved_;
    if (multiple)
      transport_.resolve_up_to(tag, false);
    else
      transport_.resolve(tag, false);
    increment(transport_.stats().amqp_nacked, before - transport_.unresolved_);
  }
  void on_return(std::uint64_t tag, int reply_code, std::string_view reply_text) override {
    increment(transport_.stats().amqp_returned);
    if (tag >= transport_.first_tag_ && tag - transport_.first_tag_ < transport_.window_.size())
      transport_.window_[tag - transport_.first_tag_].returned = true;
    transport_.failure_ = "broker " + transport_.destination() +
                          " returned a document: " + std::to_string(reply_code) + " " +
                          std::string(reply_text) + " (no queue is bound to exchange '" +
                          transport_.config_.publisher.exchange + "' with routing key '" +
                          transport_.config_.publisher.routing_key + "')";
  }
  void on_blocked(std::string_view reason) override {
    transport_.blocked_ = reason.empty() ? std::string("no reason given") : std::string(reason);
  }
  void on_unblocked() override { transport_.blocked_.clear(); }

 private:
  AmqpTransport& transport_;
};

AmqpTransport::AmqpTransport(const AmqpSinkConfig& config, Clock& clock)
    : config_(config), clock_(clock), publisher_(config_.publisher) {}

AmqpTransport::~AmqpTransport() {
  publisher_.drop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status AmqpTransport::open() {
  Result<std::vector<AmqpEndpoint>> endpoints = parse_amqp_url_list(config_.urls);
  if (!endpoints) return fail("amqp sink: " + endpoints.error());
  endpoints_ = std::move(endpoints).value();
  if (config_.publisher.exchange.empty())
    return fail("amqp sink: no exchange (the default exchange cannot be declared)");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return fail(std::string("amqp sink: eventfd: ") + std::strerror(errno));
  return {};
}

std::string AmqpTransport::broker_display(std::int64_t index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= endpoints_.size()) return {};
  return endpoints_[static_cast<std::size_t>(index)].display;
}

const std::string& AmqpTransport::destination() const {
  return endpoints_[broker_index_ % endpoints_.size()].display;
}

std::string AmqpTransport::blocked_reason() const {
  if (blocked_.empty()) return {};
  return "RabbitMQ blocked the connection: " + blocked_;
}

std::size_t AmqpTransport::window_limit() const {
  return probing_ ? 1 : std::max<std::size_t>(1, config_.confirm_window);
}

std::uint64_t AmqpTransport::documents_in_flight() const {
  std::uint64_t documents = 0;
  for (const auto& chunk : active_) documents += chunk->batch.count - chunk->resolved;
  return documents;
}

std::int64_t AmqpTransport::oldest_unanswered_ms() const {
  return active_.empty() ? -1 : waiting_since_ms_;
}

void AmqpTransport::wakeup() {
  if (wake_fd_ < 0) return;
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    // Already signalled (counter saturated) or closing: nothing to do.
  }
}

void AmqpTransport::clear_wakeup() {
  std::uint64_t value = 0;
  if (::read(wake_fd_, &value, sizeof(value)) < 0) {
    // Not signalled: nothing to clear.
  }
}

bool AmqpTransport::connect(DeliveryReports& reports) {
  if (publisher_.ready()) return true;
  reports_ = &reports;
  const AmqpEndpoint& endpoint = endpoints_[broker_index_];
  const bool channel_only = publisher_.connection_open();
  if (Status connected = publisher_.connect(endpoint); !connected) {
    set(stats().amqp_current_broker, -1);
    if (!publisher_.connection_open()) broker_index_ = (broker_index_ + 1) % endpoints_.size();
    reports.unavailable(connected.error());
    return false;
  }
  if (!channel_only) {
    if (ever_connected_) increment(stats().amqp_reconnects);
    blocked_.clear();
    spdlog::info("amqp sink: connected to {}, publishing to exchange '{}' with routing key '{}'",
                 endpoint.display, config_.publisher.exchange, config_.publisher.routing_key);
  }
  ever_connected_ = true;
  set(stats().amqp_current_broker, static_cast<std::int64_t>(broker_index_));
  window_.clear();
  first_tag_ = publisher_.next_tag();
  unresolved_ = 0;
  return true;
}

bool AmqpTransport::can_take_batch(bool probing) const {
  const std::size_t limit = probing ? 1 : std::max<std::size_t>(1, config_.confirm_window);
  return publisher_.ready() && blocked_.empty() && publishing_ == nullptr && unresolved_ < limit;
}

void AmqpTransport::send(OutgoingBatch&& batch, DeliveryReports& reports) {
  reports_ = &reports;
  if (active_.empty()) waiting_since_ms_ = clock_.steady_ms();
  auto chunk = std::make_unique<Chunk>();
  chunk->batch = std::move(batch);
  active_.push_back(std::move(chunk));
  publishing_ = active_.back().get();
  publish_window();
}

void AmqpTransport::publish_window() {
  while (publishing_ != nullptr && publisher_.ready() && blocked_.empty() &&
         unresolved_ < window_limit()) {
    Chunk& chunk = *publishing_;
    const std::string& ndjson = chunk.batch.ndjson;
    const std::size_t newline = ndjson.find('\n', chunk.cursor);
    const std::size_t end = newline == std::string::npos ? ndjson.size() : newline;
    std::string_view document(ndjson.data() + chunk.cursor, end - chunk.cursor);
    Result<std::uint64_t> published = publisher_.publish(document);
    if (!published) {
      fail_connection(published.error(), false);
      return;
    }
    const std::uint64_t tag = *published;
    if (window_.empty()) first_tag_ = tag;
    window_.push_back(Pending{publishing_, static_cast<std::uint32_t>(chunk.cursor),
                              static_cast<std::uint32_t>(document.size()), false, false});
    ++unresolved_;
    increment(stats().amqp_published);
    ++chunk.published;
    chunk.cursor = end + 1;
    if (chunk.published >= chunk.batch.count) publishing_ = nullptr;
  }
}

void AmqpTransport::resolve(std::uint64_t tag, bool acked) {
  if (tag < first_tag_ || tag - first_tag_ >= window_.size()) return;
  Pending& pending = window_[tag - first_tag_];
  if (pending.resolved) return;
  pending.resolved = true;
  --unresolved_;
  Chunk& chunk = *pending.chunk;
  if (acked && !pending.returned) {
    increment(stats().amqp_confirmed);
    ++chunk.confirmed;
    probing_ = false;
  } else {
    chunk.failed.append(chunk.batch.ndjson, pending.begin, pending.length);
    chunk.failed.push_back('\n');
    ++chunk.failed_count;
  }
  ++chunk.resolved;
  if (chunk.resolved >= chunk.batch.count) complete(&chunk);
}

void AmqpTransport::resolve_up_to(std::uint64_t tag, bool acked) {
  if (window_.empty() || tag < first_tag_) return;
  const std::uint64_t last = std::min<std::uint64_t>(tag, first_tag_ + window_.size() - 1);
  for (std::uint64_t t = first_tag_; t <= last; ++t) resolve(t, acked);
}

// Every document of `chunk` is acked or failed: it leaves the active list and goes back to the
// engine, delivered or with the failed documents to send again.
void AmqpTransport::complete(Chunk* chunk) {
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const std::unique_ptr<Chunk>& c) { return c.get() == chunk; });
  if (it == active_.end()) return;
  std::unique_ptr<Chunk> done = std::move(*it);
  active_.erase(it);
  if (done->failed_count == 0) {
    reports_->delivered(std::move(done->batch));
    return;
  }
  if (done->failed_count == done->batch.count) probing_ = true;
  reports_->retry(take_failed(*done), done->confirmed,
                  failure_.empty() ? std::string("documents not confirmed") : failure_);
}

// The documents of `chunk` to send again, as a batch of their own.
OutgoingBatch AmqpTransport::take_failed(Chunk& chunk) {
  OutgoingBatch again;
  again.ndjson = std::move(chunk.failed);
  again.count = chunk.failed_count;
  again.oldest_ms = chunk.batch.oldest_ms;
  again.seq = chunk.batch.seq;
  again.spool_segment = chunk.batch.spool_segment;
  return again;
}

void AmqpTransport::trim_window() {
  while (!window_.empty() && window_.front().resolved) {
    window_.pop_front();
    ++first_tag_;
  }
}

// The documents of `chunk` not published yet are failed with it.
void AmqpTransport::fail_unpublished(Chunk& chunk) {
  const std::uint32_t unpublished = chunk.batch.count - chunk.published;
  if (chunk.cursor < chunk.batch.ndjson.size())
    chunk.failed.append(chunk.batch.ndjson, chunk.cursor);
  chunk.failed_count += unpublished;
  chunk.resolved += unpublished;
  chunk.published = chunk.batch.count;
  chunk.cursor = chunk.batch.ndjson.size();
}

// The channel (or the whole connection) failed: every document not acked yet goes back to the
// engine; the broker moves to the next one of the list when the connection is gone.
void AmqpTransport::fail_connection(const std::string& reason, bool channel_only) {
  if (!channel_only) set(stats().amqp_current_broker, -1);
  if (!publisher_.connection_open()) blocked_.clear();
  failure_ = reason;
  probing_ = true;
  const bool nothing_sent = active_.empty();
  // The chunk being published cannot complete through its window: it has unpublished documents.
  Chunk* publishing = publishing_;
  publishing_ = nullptr;
  if (publishing != nullptr) fail_unpublished(*publishing);
  for (std::uint64_t i = 0; i < window_.size(); ++i) resolve(first_tag_ + i, false);
  window_.clear();
  unresolved_ = 0;
  if (publishing != nullptr && publishing->resolved >= publishing->batch.count)
    complete(publishing);
  if (!channel_only && !publisher_.connection_open())
    broker_index_ = (broker_index_ + 1) % endpoints_.size();
  if (nothing_sent) reports_->unavailable(reason);
}

// A broker that took messages and confirms none of them for confirm_timeout_ms is given up on:
// the connection is dropped and the documents go back to the engine.
void AmqpTransport::check_confirm_timeout() {
  if (active_.empty() || !publisher_.connection_open()) return;
  const std::int64_t waited = clock_.steady_ms() - waiting_since_ms_;
  if (waited < config_.confirm_timeout_ms) return;
  std::string reason =
      "no publisher confirm from " + destination() + " for " + std::to_string(waited) + " ms";
  if (!blocked_.empty()) reason += " (" + blocked_reason() + ")";
  publisher_.drop();
  fail_connection(reason, false);
}

void AmqpTransport::read_confirms(int wait_ms) {
  if (!publisher_.ready()) return;
  ConfirmHandler handler(*this);
  failure_.clear();
  Status read = publisher_.read(wait_ms, wake_fd_, handler);
  trim_window();
  if (!read) fail_connection(read.error(), publisher_.connection_open());
}

void AmqpTransport::progress(int wait_ms, DeliveryReports& reports) {
  reports_ = &reports;
  if (publisher_.ready()) {
    publish_window();
    read_confirms(wait_ms);
    publish_window();
  } else if (wait_ms > 0) {
    // Not connected: only the engine's timers or a wakeup end this wait.
    pollfd fd{wake_fd_, POLLIN, 0};
    ::poll(&fd, 1, wait_ms);
  }
  clear_wakeup();
  check_confirm_timeout();
}

// What is not confirmed goes back: the unresolved and failed documents of every active chunk.
std::uint64_t AmqpTransport::take_unfinished(std::vector<OutgoingBatch>& out) {
  for (const Pending& pending : window_) {
    if (pending.resolved) continue;
    pending.chunk->failed.append(pending.chunk->batch.ndjson, pending.begin, pending.length);
    pending.chunk->failed.push_back('\n');
    ++pending.chunk->failed_count;
  }
  window_.clear();
  unresolved_ = 0;
  std::uint64_t confirmed = 0;
  for (auto& chunk : active_) {
    if (chunk->cursor < chunk->batch.ndjson.size()) fail_unpublished(*chunk);
    confirmed += chunk->confirmed;
    if (chunk->failed_count > 0) out.push_back(take_failed(*chunk));
  }
  active_.clear();
  publishing_ = nullptr;
  publisher_.drop();
  set(stats().amqp_current_broker, -1);
  return confirmed;
}

void AmqpTransport::refresh_gauges() {
  set(stats().amqp_in_flight, static_cast<std::int64_t>(unresolved_));
}

}  // namespace aurelay::output
