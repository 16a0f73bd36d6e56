#include "output/http/http_sink.h"

#include <memory>

namespace aurelay::output {

namespace {

DeliveryConfig delivery_config(const HttpSinkConfig& http) {
  DeliveryConfig config = delivery_config_of("http sink", http);
  config.batch_max_events = http.batch_max_events;
  config.batch_max_bytes = http.batch_max_bytes;
  config.batch_flush_ms = http.batch_flush_ms;
  config.one_document_per_send = http.bulk_format == BulkFormat::single;
  config.dead_letter_file = http.dead_letter_file;
  return config;
}

}  // namespace

HttpSink::HttpSink(const HttpSinkConfig& config, Clock& clock, OutputStats* stats)
    : HttpSink(config, clock, RetryPolicy::RandomSource(), stats) {}

HttpSink::HttpSink(const HttpSinkConfig& config, Clock& clock, RetryPolicy::RandomSource random,
                   OutputStats* stats)
    : DeliveryEngine(delivery_config(config), std::make_unique<HttpTransport>(config, clock), clock,
                     std::move(random), stats) {}

}  // namespace aurelay::output
