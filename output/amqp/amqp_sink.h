// AMQP output: the delivery engine (output/delivery_engine.h: batching, memory queue, backoff,
// spool, counters) driving the AMQP transport (output/amqp/amqp_transport.h: one persistent message
// per document to MozDef's RabbitMQ exchange, with publisher confirms; a document is delivered
// only when the broker acks it). At-least-once: a spooled record is removed only when every one
// of its documents is acked; a crash or a lost connection sends the unconfirmed ones again (the
// broker may then hold duplicates).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "output/amqp/amqp_publisher.h"
#include "output/amqp/amqp_transport.h"
#include "output/clock.h"
#include "output/delivery_engine.h"
#include "output/retry_policy.h"
#include "output/spool.h"

namespace aurelay::output {

class AmqpSink final : public DeliveryEngine {
 public:
  // `clock` (backoff, deadlines, rate limits, latency; output/clock.h) must outlive the sink.
  // `stats`: where it counts (the daemon's Metrics); null = its own.
  explicit AmqpSink(const AmqpSinkConfig& config, Clock& clock = SteadyClock::instance(),
                    OutputStats* stats = nullptr);
  AmqpSink(const AmqpSinkConfig& config, RetryPolicy::RandomSource random,
           Clock& clock = SteadyClock::instance(), OutputStats* stats = nullptr);
};

}  // namespace aurelay::output
