// One default per option: every numeric option of the table reaches its component with the
// table's default (through the daemon's Config -> component config mapping), and the component's
// own config struct, built directly by code and tests, starts from that same value.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "collector/config/config.h"
#include "collector/daemon.h"
#include "correlate/event_assembler.h"
#include "correlate/process_table.h"
#include "mozdef/encoder.h"
#include "netlink/audit_socket.h"
#include "output/amqp/amqp_sink.h"
#include "output/http/http_sink.h"
#include "output/spool.h"

namespace aurelay::collector {
namespace {

// One place an option's value arrives: the value a default Config gives the component, and the
// default of the component's config struct.
struct Arrival {
  std::string component;
  std::int64_t received;
  std::int64_t struct_default;
};

std::int64_t as_int(std::uint64_t value) { return static_cast<std::int64_t>(value); }

// Numeric options the daemon applies itself (kernel settings, report timer): no component
// struct carries them.
const std::set<std::string_view> kAppliedByTheDaemon = {"backlog_limit", "backlog_wait_time",
                                                        "rate_limit", "report_interval"};

std::map<std::string, std::vector<Arrival>, std::less<>> arrivals(const Config& config) {
  const PipelineConfig pipeline = make_pipeline_config(config);
  const PipelineConfig pipeline_default;
  const netlink::DataSocketOptions socket = make_data_socket_options(config);
  const netlink::DataSocketOptions socket_default;
  Result<output::HttpSinkConfig> made_http = make_http_config(config, "http://127.0.0.1:9/_bulk");
  EXPECT_TRUE(made_http.ok()) << made_http.error();
  const output::HttpSinkConfig http = made_http.ok() ? *made_http : output::HttpSinkConfig{};
  const output::HttpSinkConfig http_default;
  const output::AmqpSinkConfig amqp = make_amqp_config(config, "amqp://127.0.0.1:9/");
  const output::AmqpSinkConfig amqp_default;
  const output::SpoolConfig spool_default;

  std::map<std::string, std::vector<Arrival>, std::less<>> out;
  out["receive_buffer_bytes"] = {
      {"DataSocketOptions", socket.receive_buffer_bytes, socket_default.receive_buffer_bytes}};
  out["ring_capacity"] = {
      {"PipelineConfig", as_int(pipeline.record_batches), as_int(pipeline_default.record_batches)}};
  out["eoe_timeout_ms"] = {{"AssemblerConfig", pipeline.assembler.eoe_timeout.count(),
                            correlate::AssemblerConfig{}.eoe_timeout.count()}};
  out["max_in_flight"] = {{"AssemblerConfig", as_int(pipeline.assembler.max_in_flight),
                           as_int(correlate::AssemblerConfig{}.max_in_flight)}};
  out["max_value_bytes"] = {{"EncoderConfig", as_int(pipeline.encoder.max_value_bytes),
                             as_int(mozdef::EncoderConfig{}.max_value_bytes)}};
  out["process_table_size"] = {{"ProcessTableConfig",
                                as_int(pipeline.encoder.process_table.capacity),
                                as_int(correlate::ProcessTableConfig{}.capacity)}};
  out["http_max_inflight"] = {
      {"HttpSinkConfig", http.http_max_inflight, http_default.http_max_inflight}};
  out["batch_max_events"] = {
      {"HttpSinkConfig", as_int(http.batch_max_events), as_int(http_default.batch_max_events)}};
  out["batch_max_bytes"] = {
      {"HttpSinkConfig", as_int(http.batch_max_bytes), as_int(http_default.batch_max_bytes)}};
  out["batch_flush_ms"] = {{"HttpSinkConfig", http.batch_flush_ms, http_default.batch_flush_ms}};
  out["retry_base_ms"] = {
      {"HttpSinkConfig", as_int(http.retry_base_ms), as_int(http_default.retry_base_ms)},
      {"AmqpSinkConfig", as_int(amqp.retry_base_ms), as_int(amqp_default.retry_base_ms)}};
  out["retry_max_ms"] = {
      {"HttpSinkConfig", as_int(http.retry_max_ms), as_int(http_default.retry_max_ms)},
      {"AmqpSinkConfig", as_int(amqp.retry_max_ms), as_int(amqp_default.retry_max_ms)}};
  out["amqp_confirm_window"] = {
      {"AmqpSinkConfig", as_int(amqp.confirm_window), as_int(amqp_default.confirm_window)}};
  out["spool_max_bytes"] = {
      {"HttpSinkConfig", as_int(http.spool_max_bytes), as_int(http_default.spool_max_bytes)},
      {"AmqpSinkConfig", as_int(amqp.spool_max_bytes), as_int(amqp_default.spool_max_bytes)},
      {"SpoolConfig", as_int(http.spool_max_bytes), as_int(spool_default.max_bytes)}};
  return out;
}

// The table's default of a numeric option, as the default Config holds it.
std::int64_t table_default(const Config& config, const OptionSpec& spec) {
  if (const auto* member = std::get_if<std::uint64_t Config::*>(&spec.member))
    return as_int(config.**member);
  if (const auto* member = std::get_if<std::int64_t Config::*>(&spec.member))
    return config.**member;
  ADD_FAILURE() << spec.name << " is numeric but its member is not an integer";
  return -1;
}

bool is_numeric(const OptionSpec& spec) {
  return spec.type == OptionType::kUnsigned || spec.type == OptionType::kBytes ||
         spec.type == OptionType::kSigned;
}

TEST(OptionDefaults, EveryNumericOptionReachesItsComponentWithTheTableDefault) {
  const Config config;
  const auto received = arrivals(config);
  int checked = 0;
  for (const OptionSpec& spec : option_table()) {
    if (!is_numeric(spec) || kAppliedByTheDaemon.contains(spec.name)) continue;
    const auto found = received.find(spec.name);
    ASSERT_NE(found, received.end())
        << spec.name << ": a numeric option this test does not know; add where it arrives";
    const std::int64_t expected = table_default(config, spec);
    EXPECT_EQ(std::to_string(expected), spec.default_value) << spec.name;
    for (const Arrival& arrival : found->second) {
      EXPECT_EQ(arrival.received, expected)
          << spec.name << ": " << arrival.component << " receives another value than the table's";
      ++checked;
    }
  }
  // Every place listed was reached from the table (no entry names an option the loop skipped).
  std::size_t places = 0;
  for (const auto& [name, arrivals_of_option] : received) places += arrivals_of_option.size();
  EXPECT_EQ(static_cast<std::size_t>(checked), places);
}

TEST(OptionDefaults, ComponentStructsStartFromTheTableDefault) {
  const Config config;
  const auto received = arrivals(config);
  for (const OptionSpec& spec : option_table()) {
    const auto found = received.find(spec.name);
    if (found == received.end()) continue;
    const std::int64_t expected = table_default(config, spec);
    for (const Arrival& arrival : found->second) {
      EXPECT_EQ(arrival.struct_default, expected)
          << spec.name << ": " << arrival.component << "'s own default differs from the table's";
    }
  }
}

TEST(OptionDefaults, EveryOptionKnownHereIsInTheTable) {
  const Config config;
  for (const auto& [name, places] : arrivals(config)) {
    EXPECT_NE(find_option(name), nullptr) << name;
    EXPECT_FALSE(places.empty()) << name;
  }
}

}  // namespace
}  // namespace aurelay::collector
