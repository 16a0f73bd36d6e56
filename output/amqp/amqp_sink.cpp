#include "output/amqp/amqp_sink.h"

#include <memory>

namespace aurelay::output {

namespace {

DeliveryConfig delivery_config(const AmqpSinkConfig& amqp) {
  DeliveryConfig config = amqp.delivery;
  config.name = "amqp sink";
  return config;
}

}  // namespace

AmqpSink::AmqpSink(const AmqpSinkConfig& config, Clock& clock, OutputStats* stats)
    : AmqpSink(config, RetryPolicy::RandomSource(), clock, stats) {}

AmqpSink::AmqpSink(const AmqpSinkConfig& config, RetryPolicy::RandomSource random, Clock& clock,
                   OutputStats* stats)
    : DeliveryEngine(delivery_config(config), std::make_unique<AmqpTransport>(config, clock), clock,
                     std::move(random), stats) {}

}  // namespace aurelay::output
