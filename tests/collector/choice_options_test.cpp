// Every choice option of the option table is an enum parsed in one place: each listed value
// parses to its own enum value, each value of an output, spool or queue option changes the
// configuration of the component it is for, and a value the table does not list stops the real
// binary with exit status 2 naming file and line.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aurelay_process.h"
#include "collector/config/config.h"
#include "collector/daemon.h"
#include "test_support.h"

namespace aurelay::collector {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> listed_values(const OptionSpec& spec) {
  std::vector<std::string> values;
  std::string_view rest = spec.choices;
  while (!rest.empty()) {
    const auto bar = rest.find('|');
    values.emplace_back(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
  }
  return values;
}

std::vector<const OptionSpec*> choice_options() {
  std::vector<const OptionSpec*> options;
  for (const OptionSpec& spec : option_table()) {
    if (spec.type == OptionType::kChoice) options.push_back(&spec);
  }
  return options;
}

TEST(ChoiceOptions, EveryListedValueParsesToItsOwnEnumValue) {
  ASSERT_GE(choice_options().size(), 10u);
  for (const OptionSpec* spec : choice_options()) {
    SCOPED_TRACE(std::string(spec->name));
    ASSERT_TRUE(std::holds_alternative<ChoiceMember>(spec->member));
    const ChoiceMember& member = std::get<ChoiceMember>(spec->member);
    // The table's list is the enum's list (also checked at compile time).
    EXPECT_EQ(spec->choices, member.choices);
    const std::vector<std::string> values = listed_values(*spec);
    ASSERT_GE(values.size(), 2u);
    std::set<std::string> read_back;
    for (const std::string& value : values) {
      Config config;
      const Status result =
          parse_config_text(std::string(spec->name) + " = " + value + "\n", "/c", config);
      ASSERT_TRUE(result.ok()) << result.error();
      // Reading the enum value back gives the name it was parsed from: two names of one value
      // would read back as the same name.
      EXPECT_EQ(format_option_value(config, *spec), value);
      read_back.insert(format_option_value(config, *spec));
    }
    EXPECT_EQ(read_back.size(), values.size());
    // One default: the table's default text is the value a default Config holds.
    EXPECT_EQ(format_option_value(Config(), *spec), spec->default_value);
  }
}

TEST(ChoiceOptions, AValueTheTableDoesNotListIsRefusedWithFileAndLine) {
  for (const OptionSpec* spec : choice_options()) {
    Config config;
    const Status result = parse_config_text(
        "# comment\n" + std::string(spec->name) + " = not_a_choice\n", "/etc/a.conf", config);
    EXPECT_FALSE(result.ok()) << spec->name;
    EXPECT_EQ(result.exit_code(), kExitConfigError) << spec->name;
    EXPECT_EQ(result.error().rfind("/etc/a.conf:2: " + std::string(spec->name) +
                                       ": invalid value 'not_a_choice', expected one of ",
                                   0),
              0u)
        << result.error();
  }
}

// What each value of a component's choice option changes, read from the component's config.
using ComponentField = std::function<int(const Config&)>;

int http_field(const Config& config, const std::function<int(const output::HttpSinkConfig&)>& f) {
  Result<output::HttpSinkConfig> http = make_http_config(config, "http://127.0.0.1:1/ingest");
  EXPECT_TRUE(http.ok()) << http.error();
  return http ? f(*http) : -1;
}

std::map<std::string, ComponentField, std::less<>> component_fields() {
  return {
      {"queue_full_action",
       [](const Config& c) { return static_cast<int>(make_pipeline_config(c).queue_full_action); }},
      {"bulk_format",
       [](const Config& c) {
         return http_field(c, [](const auto& h) { return static_cast<int>(h.bulk_format); });
       }},
      {"spool_full_action",
       [](const Config& c) {
         const int http =
             http_field(c, [](const auto& h) { return static_cast<int>(h.spool_full_action); });
         EXPECT_EQ(http, static_cast<int>(make_amqp_config(c, "amqp://h/").spool_full_action));
         return http;
       }},
      {"spool_fsync",
       [](const Config& c) {
         const int http =
             http_field(c, [](const auto& h) { return static_cast<int>(h.spool_fsync); });
         EXPECT_EQ(http, static_cast<int>(make_amqp_config(c, "amqp://h/").spool_fsync));
         return http;
       }},
      {"amqp_declare",
       [](const Config& c) {
         return static_cast<int>(make_amqp_config(c, "amqp://h/").publisher.passive);
       }},
  };
}

TEST(ChoiceOptions, EveryValueOfAComponentOptionChangesTheComponentConfig) {
  const auto fields = component_fields();
  for (const OptionSpec* spec : choice_options()) {
    const bool component =
        spec->section == OptionSection::kInput || spec->section == OptionSection::kHttp ||
        spec->section == OptionSection::kAmqp || spec->section == OptionSection::kSpool;
    if (!component) continue;
    SCOPED_TRACE(std::string(spec->name));
    const auto field = fields.find(spec->name);
    ASSERT_NE(field, fields.end()) << "no component field checked for " << spec->name;
    std::set<int> seen;
    for (const std::string& value : listed_values(*spec)) {
      Config config;
      ASSERT_TRUE(
          parse_config_text(std::string(spec->name) + " = " + value + "\n", "/c", config).ok());
      seen.insert(field->second(config));
    }
    EXPECT_EQ(seen.size(), listed_values(*spec).size());
    // The component's own default is the table's.
    Config defaults;
    Config parsed_default;
    ASSERT_TRUE(
        parse_config_text(std::string(spec->name) + " = " + std::string(spec->default_value) + "\n",
                          "/c", parsed_default)
            .ok());
    EXPECT_EQ(field->second(defaults), field->second(parsed_default));
  }
  // The struct defaults agree with the table.
  const Config defaults;
  EXPECT_EQ(output::HttpSinkConfig().bulk_format, defaults.bulk_format);
  EXPECT_EQ(output::HttpSinkConfig().spool_fsync, defaults.spool_fsync);
  EXPECT_EQ(output::HttpSinkConfig().spool_full_action, defaults.spool_full_action);
  EXPECT_EQ(output::AmqpSinkConfig().spool_fsync, defaults.spool_fsync);
  EXPECT_EQ(output::AmqpSinkConfig().spool_full_action, defaults.spool_full_action);
  EXPECT_EQ(output::SpoolConfig().fsync, defaults.spool_fsync);
  EXPECT_EQ(output::SpoolConfig().full_action, defaults.spool_full_action);
  EXPECT_EQ(PipelineConfig().queue_full_action, defaults.queue_full_action);
  EXPECT_EQ(output::AmqpSinkConfig().publisher.passive,
            defaults.amqp_declare == AmqpDeclare::passive);
}

// The values spool_fsync had in the table before it listed what the spool implements.
TEST(ChoiceOptions, SpoolFsyncListsWhatTheSpoolDoes) {
  Config config;
  ASSERT_TRUE(parse_config_text("spool_fsync = always\n", "/c", config).ok());
  EXPECT_EQ(config.spool_fsync, output::SpoolFsync::always);
  EXPECT_FALSE(parse_config_text("spool_fsync = segment\n", "/c", config).ok());
}

TEST(ChoiceOptions, CheckConfigStopsAtAnUnknownValueWithFileAndLine) {
  testing::TempDir dir;
  const std::string config = (dir / "aurelay.conf").string();
  testing::write_file(config, "input = stdin\n\nspool_fsync = segment\n");
  std::filesystem::permissions(
      config, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  testing::AurelayProcess aurelay({AURELAY_BINARY, "--config", config, "--check-config"},
                                  dir / "err");
  EXPECT_EQ(aurelay.wait_exit(30s), kExitConfigError) << aurelay.stderr_text();
  EXPECT_NE(
      aurelay.stderr_text().find(config + ":3: spool_fsync: invalid value 'segment', expected one "
                                          "of always, batch, never"),
      std::string::npos)
      << aurelay.stderr_text();
}

}  // namespace
}  // namespace aurelay::collector
