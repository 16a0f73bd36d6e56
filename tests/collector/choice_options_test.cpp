// Every choice option of the option table is an enum parsed in one place: each listed value
// parses to its own enum value (in the component's struct the table writes into: see
// option_defaults_test.cpp), and a value the table does not list stops the real binary with exit
// status 2 naming file and line.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aurelay_process.h"
#include "collector/config/config.h"
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

// The values spool_fsync had in the table before it listed what the spool implements.
TEST(ChoiceOptions, SpoolFsyncListsWhatTheSpoolDoes) {
  Config config;
  ASSERT_TRUE(parse_config_text("spool_fsync = always\n", "/c", config).ok());
  EXPECT_EQ(config.delivery.spool_fsync, output::SpoolFsync::always);
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
