#include "output/amqp_sink.h"

#include <memory>

namespace aurelay::output {

namespace {

DeliveryConfig delivery_config(const AmqpSinkConfig& amqp) {
  return {.name = "amqp sink",
          .retry_base_ms = amqp.retry_base_ms,
          .retry_max_ms = amqp.retry_max_ms,
          .spool_dir = amqp.spool_dir,
          .spool_max_bytes = amqp.spool_max_bytes,
          .spool_segment_bytes = amqp.spool_segment_bytes,
          .spool_full_action = amqp.spool_full_action,
          .spool_fsync = amqp.spool_fsync,
          .memory_max_documents = amqp.memory_max_documents};
}

}  // namespace

AmqpSink::AmqpSink(AmqpSinkConfig config, Clock& clock)
    : AmqpSink(std::move(config), RetryPolicy::RandomSource(), clock) {}

AmqpSink::AmqpSink(AmqpSinkConfig config, RetryPolicy::RandomSource random, Clock& clock)
    : DeliveryEngine(delivery_config(config), std::make_unique<AmqpTransport>(config, clock), clock,
                     std::move(random)) {}

}  // namespace aurelay::output
