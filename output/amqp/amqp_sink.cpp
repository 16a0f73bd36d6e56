#include "output/amqp/amqp_sink.h"

#include <memory>

namespace aurelay::output {

AmqpSink::AmqpSink(const AmqpSinkConfig& config, Clock& clock)
    : AmqpSink(config, RetryPolicy::RandomSource(), clock) {}

AmqpSink::AmqpSink(const AmqpSinkConfig& config, RetryPolicy::RandomSource random, Clock& clock)
    : DeliveryEngine(delivery_config_of("amqp sink", config),
                     std::make_unique<AmqpTransport>(config, clock), clock, std::move(random)) {}

}  // namespace aurelay::output
