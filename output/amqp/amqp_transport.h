// AMQP transport of the delivery engine: publishes every document of a batch as one persistent
// message to MozDef's RabbitMQ exchange, with publisher confirms. A batch is delivered when the
// broker acked each of its documents; a nack, a return (no queue took the message: its ack that
// follows is not a delivery), a channel or connection error, or no confirm for
// confirm_timeout_ms sends the unconfirmed documents back to the engine as a retry. Several
// broker URLs (a cluster) are tried in turn: a failed connection moves to the next.
//
// Up to `confirm_window` messages are unconfirmed at once (one while the engine probes). While
// the broker blocks the connection (connection.blocked: a memory or disk alarm) nothing is
// published and blocked_reason() names the cause; connection.unblocked resumes.
//
// Owned by the engine's thread; wakeup() is thread-safe (an eventfd the reads also wait on).
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "output/amqp/amqp_publisher.h"
#include "output/clock.h"
#include "output/delivery_engine.h"
#include "output/retry_policy.h"
#include "output/spool.h"

namespace aurelay::output {

// Default of amqp_confirm_window (the option table formats this same constant).
inline constexpr std::size_t kDefaultAmqpConfirmWindow = 1000;

struct AmqpSinkConfig {
  std::string urls;  // amqp_url / --output: one URL or a comma-separated list (credentials inside)
  AmqpPublisherConfig publisher;
  std::size_t confirm_window = kDefaultAmqpConfirmWindow;  // unconfirmed messages at most
  // Published messages without any confirm for this long: the connection is given up on and
  // the documents go to the spool (a broker that stalls is an outage).
  std::int64_t confirm_timeout_ms = 30000;
  // Batching, retry, spool (empty spool_dir = memory only: leftovers are dropped and counted).
  DeliveryConfig delivery;
};

class AmqpTransport final : public Transport {
 public:
  AmqpTransport(const AmqpSinkConfig& config, Clock& clock);
  ~AmqpTransport() override;
  AmqpTransport(const AmqpTransport&) = delete;
  AmqpTransport& operator=(const AmqpTransport&) = delete;

  // Parses the URLs and opens the wakeup eventfd. Does not connect (the broker may be down at
  // start). The error never holds credentials.
  Status open() override;
  const std::string& destination() const override;
  bool connect(DeliveryReports& reports) override;
  bool can_take_batch(bool probing) const override;
  void send(OutgoingBatch&& batch, DeliveryReports& reports) override;
  void progress(int wait_ms, DeliveryReports& reports) override;
  void wakeup() override;
  std::size_t batches_in_flight() const override { return active_.size(); }
  std::uint64_t documents_in_flight() const override;
  std::int64_t oldest_unanswered_ms() const override;
  std::string blocked_reason() const override;
  std::uint64_t take_unfinished(std::vector<OutgoingBatch>& out) override;
  void close() override { publisher_.close(); }
  void refresh_gauges() override;

 private:
  // A batch being published and confirmed, document by document.
  struct Chunk {
    OutgoingBatch batch;
    std::size_t cursor = 0;       // offset of the next document to publish
    std::uint32_t published = 0;  // documents published (or given up before publishing)
    std::uint32_t resolved = 0;   // documents acked, nacked, returned or failed
    std::uint32_t confirmed = 0;
    std::string failed;  // documents to send again
    std::uint32_t failed_count = 0;
  };
  struct Pending {
    Chunk* chunk = nullptr;
    std::uint32_t begin = 0;  // offset of the document in chunk->batch.ndjson
    std::uint32_t length = 0;
    bool resolved = false;
    bool returned = false;  // came back unroutable: its ack is a failure
  };
  class ConfirmHandler;

  std::string broker_display(std::int64_t index) const;
  std::size_t window_limit() const;
  void publish_window();
  void read_confirms(int wait_ms);
  void resolve(std::uint64_t tag, bool acked);
  void resolve_up_to(std::uint64_t tag, bool acked);
  void complete(Chunk* chunk);
  static OutgoingBatch take_failed(Chunk& chunk);
  void trim_window();
  void fail_connection(const std::string& reason, bool channel_only);
  void fail_unpublished(Chunk& chunk);
  void check_confirm_timeout();
  void clear_wakeup();

  AmqpSinkConfig config_;
  Clock& clock_;
  std::vector<AmqpEndpoint> endpoints_;
  AmqpPublisher publisher_;
  int wake_fd_ = -1;
  DeliveryReports* reports_ = nullptr;  // set while the engine calls in

  std::list<std::unique_ptr<Chunk>> active_;  // chunks being published or confirmed
  Chunk* publishing_ = nullptr;               // the one with documents not published yet
  std::deque<Pending> window_;                // by tag: window_[i] has tag first_tag_ + i
  std::uint64_t first_tag_ = 1;
  std::uint64_t unresolved_ = 0;
  bool probing_ = false;
  std::int64_t waiting_since_ms_ = 0;  // last answer, or when the first chunk came
  std::string failure_;                // why the documents resolved now failed
  std::string blocked_;                // the broker's connection.blocked reason

  std::size_t broker_index_ = 0;
  bool ever_connected_ = false;
};

}  // namespace aurelay::output
