#include "output/amqp/amqp_sink.h"

#include <memory>

namespace aurelay::output {

AmqpSink::AmqpSink(const AmqpSinkConfig& config, Clock& clock, OutputStats* stats)
    : AmqpSink(config, RetryPolicy::RandomSource(), clock, stats) {}

AmqpSink::AmqpSink(const AmqpSinkConfig& config, RetryPolicy::RandomSource random, Clock& clock,
                   OutputStats* stats)
    : DeliveryEngine(delivery_config_of("amqp sink", config),
                     std::make_unique<AmqpTransport>(config, clock), clock, std::move(random),
                     stats) {}

}  // namespace aurelay::output
