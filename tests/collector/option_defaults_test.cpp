// One default per option, and one place each option lives. The option table writes every option
// into the config struct of the component it configures (Config holds them), so:
//  - each numeric and choice option's default, as the component's own struct initializes it, is
//    the table's (a component built by code or a test starts where the daemon starts it);
//  - the daemon hands each component its struct from the Config as parsed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "collector/config/config.h"
#include "collector/daemon.h"

namespace aurelay::collector {
namespace {

using namespace std::chrono_literals;

bool has_struct_default(const OptionSpec& spec) {
  return spec.type == OptionType::kUnsigned || spec.type == OptionType::kBytes ||
         spec.type == OptionType::kSigned || spec.type == OptionType::kChoice ||
         spec.type == OptionType::kBool;
}

TEST(OptionDefaults, EveryStructMemberStartsAtTheTableDefault) {
  const Config from_table;
  const Config from_structs{Config::kStructDefaults};
  int checked = 0;
  for (const OptionSpec& spec : option_table()) {
    if (!has_struct_default(spec)) continue;
    EXPECT_EQ(format_option_value(from_structs, spec), format_option_value(from_table, spec))
        << spec.name << ": the struct's own default is not the table's (" << spec.default_value
        << ")";
    ++checked;
  }
  EXPECT_GE(checked, 30);
}

TEST(OptionDefaults, EveryDefaultParsesAndReadsBackAsWritten) {
  const Config config;
  for (const OptionSpec& spec : option_table()) {
    EXPECT_EQ(format_option_value(config, spec), spec.default_value) << spec.name;
  }
}

TEST(OptionDefaults, TheDaemonHandsEachComponentItsStructAsParsed) {
  Config config;
  const Status parsed = parse_config_text(
      "ring_capacity = 32\n"
      "eoe_timeout_ms = 1234\n"
      "tags = a,b\n"
      "process_table_size = 777\n"
      "receive_buffer_bytes = 1048576\n"
      "http_max_inflight = 9\n"
      "batch_max_events = 33\n"
      "retry_base_ms = 50\n"
      "spool_max_bytes = 12345678\n"
      "ssl_verify = no\n"
      "curl_cainfo = /ca.pem\n"
      "amqp_exchange = x\n"
      "amqp_declare = passive\n"
      "amqp_confirm_window = 17\n"
      "prepend_msg = P\n",
      "/c", config);
  ASSERT_TRUE(parsed.ok()) << parsed.error();

  const PipelineConfig pipeline = make_pipeline_config(config);
  EXPECT_EQ(pipeline.record_batches, 32u);
  EXPECT_EQ(pipeline.assembler.eoe_timeout, 1234ms);
  EXPECT_EQ(pipeline.encoder.tags, "a,b");
  EXPECT_EQ(pipeline.encoder.process_table.capacity, 777u);
  EXPECT_FALSE(pipeline.encoder.hostname.empty());  // gethostname() at start

  EXPECT_EQ(make_data_socket_options(config).receive_buffer_bytes, 1048576);

  Result<output::HttpSinkConfig> http = make_http_config(config, "https://m:8443/_bulk");
  ASSERT_TRUE(http.ok()) << http.error();
  EXPECT_EQ(http->url, "https://m:8443/_bulk");
  EXPECT_EQ(http->http_max_inflight, 9u);
  EXPECT_EQ(http->delivery.batch_max_events, 33u);
  EXPECT_EQ(http->delivery.retry_base_ms, 50u);
  EXPECT_EQ(http->delivery.spool_max_bytes, 12345678u);
  EXPECT_FALSE(http->tls.verify);
  EXPECT_EQ(http->tls.ca_file, "/ca.pem");

  const output::AmqpSinkConfig amqp = make_amqp_config(config, "amqps://b/");
  EXPECT_EQ(amqp.urls, "amqps://b/");
  EXPECT_EQ(amqp.publisher.exchange, "x");
  EXPECT_EQ(amqp.publisher.declare, output::AmqpDeclare::passive);
  EXPECT_EQ(amqp.confirm_window, 17u);
  EXPECT_EQ(amqp.delivery.retry_base_ms, 50u);  // shared with HTTP: one option, one struct
  EXPECT_EQ(amqp.delivery.spool_max_bytes, 12345678u);
  EXPECT_FALSE(amqp.publisher.tls.verify);
  EXPECT_EQ(amqp.publisher.tls.ca_file, "/ca.pem");

  EXPECT_EQ(config.file.prepend_msg, "P");
}

TEST(OptionDefaults, EventsUrlWithBulkFormatUnsetPostsSingleDocuments) {
  const Config config;
  Result<output::HttpSinkConfig> http = make_http_config(config, "http://m:8080/events");
  ASSERT_TRUE(http.ok()) << http.error();
  EXPECT_EQ(http->bulk_format, output::BulkFormat::single);
}

}  // namespace
}  // namespace aurelay::collector
