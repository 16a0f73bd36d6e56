#include "output/http/http_sink.h"

#include <memory>

namespace aurelay::output {

namespace {

DeliveryConfig delivery_config(const HttpSinkConfig& http) {
  DeliveryConfig config = http.delivery;
  config.name = "http sink";
  config.one_document_per_send = http.bulk_format == BulkFormat::single;
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
