// AMQP output: the delivery engine (output/delivery_engine.h: batching, memory queue, backoff,
// spool, counters) driving the AMQP transport (output/amqp_transport.h: one persistent message
// per document to MozDef's RabbitMQ exchange, with publisher confirms; a document is delivered
// only when the broker acks it). At-least-once: a spooled record is removed only when every one
// of its documents is acked; a crash or a lost connection sends the unconfirmed ones again (the
// broker may then hold duplicates).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "output/amqp_publisher.h"
#include "output/amqp_transport.h"
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
  std::uint64_t retry_base_ms = kDefaultRetryBaseMs;
  std::uint64_t retry_max_ms = kDefaultRetryMaxMs;
  std::string spool_dir;  // empty = no spool (memory only; leftovers are dropped and counted)
  std::uint64_t spool_max_bytes = kDefaultSpoolMaxBytes;
  std::uint64_t spool_segment_bytes = 16ull << 20;
  SpoolFullAction spool_full_action = kDefaultSpoolFullAction;
  SpoolFsync spool_fsync = kDefaultSpoolFsync;
  std::size_t memory_max_documents = 50000;  // queued in memory before batches go to the spool
};

class AmqpSink final : public DeliveryEngine {
 public:
  // `clock` (backoff, deadlines, rate limits, latency; output/clock.h) must outlive the sink.
  explicit AmqpSink(AmqpSinkConfig config, Clock& clock = SteadyClock::instance());
  AmqpSink(AmqpSinkConfig config, RetryPolicy::RandomSource random,
           Clock& clock = SteadyClock::instance());

  const AmqpTransport::Counters& amqp_counters() const {
    return static_cast<const AmqpTransport&>(transport()).counters();
  }

 private:
  AmqpSink(std::unique_ptr<AmqpSinkConfig> config, RetryPolicy::RandomSource random, Clock& clock);

  std::unique_ptr<AmqpSinkConfig> amqp_config_;  // the transport reads it
};

}  // namespace aurelay::output
