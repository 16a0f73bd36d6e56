#include "collector/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "test_support.h"

namespace aurelay::collector {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> parse_state(const std::string& text) {
  std::map<std::string, std::string> values;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto equals = line.find(" = ");
    EXPECT_NE(equals, std::string::npos) << line;
    if (equals == std::string::npos) continue;
    EXPECT_TRUE(values.emplace(line.substr(0, equals), line.substr(equals + 3)).second)
        << "duplicate key in: " << line;
  }
  return values;
}

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "aurelay-state-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    // Every metric gets a distinct value so a swapped or missing line shows.
    std::int64_t value = 1000;
    visit_metrics(metrics_, [&](const MetricDescriptor&, auto& field) { field.store(value++); });
    snapshot_.metrics = &metrics_;
    snapshot_.version = "9.8.7";
    snapshot_.config_file = "/etc/aurelay/aurelay.conf";
    snapshot_.input = "netlink";
    snapshot_.output = "https://user:secret@mozdef.example/_bulk";
    snapshot_.started = 1700000000;
    snapshot_.now = 1700000100;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  Metrics metrics_;
  StateSnapshot snapshot_;
};

TEST_F(StateFileTest, RendersAuditdStyleLinesAndEveryMetric) {
  const auto values = parse_state(render_state(snapshot_));
  EXPECT_EQ(values.at("audit version"), "aurelay 9.8.7");
  EXPECT_EQ(values.at("uptime seconds"), "100");
  EXPECT_EQ(values.at("process id"), std::to_string(::getpid()));
  EXPECT_TRUE(values.contains("current time"));
  EXPECT_TRUE(values.contains("process priority"));
  EXPECT_EQ(values.at("output"), "https://***@mozdef.example/_bulk");  // no credentials
  EXPECT_TRUE(values.at("glibc arena (total memory) is").ends_with(" KiB"));
  // Every metric of the list, each with its own value, and no other line with such a value.
  std::int64_t expected = 1000;
  for (const MetricDescriptor& metric : kMetricDescriptors) {
    ASSERT_TRUE(values.contains(std::string(metric.label))) << metric.label << " missing";
    EXPECT_EQ(values.at(std::string(metric.label)), std::to_string(expected++)) << metric.label;
  }
  std::size_t metric_lines = 0;
  for (const auto& [key, value] : values) {
    const long long number = std::atoll(value.c_str());
    if (number >= 1000 && number < expected) ++metric_lines;
  }
  EXPECT_EQ(metric_lines, kMetricDescriptors.size());
  // Labels the kernel and integration tests (and operators) read.
  for (const char* label :
       {"kernel lost", "kernel audit pid", "kernel enabled", "rules loaded", "rules failed lines",
        "records received", "events completed", "documents encoded", "documents delivered",
        "documents rejected", "last HTTP status", "receive ENOBUFS"})
    EXPECT_TRUE(values.contains(label)) << label;
}

TEST(MetricList, NamesAndLabelsAreUniqueAndPrometheusSafe) {
  std::set<std::string_view> names;
  std::set<std::string_view> labels;
  for (const MetricDescriptor& metric : kMetricDescriptors) {
    EXPECT_TRUE(names.insert(metric.name).second) << "duplicate " << metric.name;
    EXPECT_TRUE(labels.insert(metric.label).second) << "duplicate " << metric.label;
    EXPECT_FALSE(metric.help.empty()) << metric.name;
    for (char c : metric.name)
      EXPECT_TRUE(std::islower(c) || std::isdigit(c) || c == '_') << metric.name;
    EXPECT_FALSE(metric.name.ends_with("_total"))
        << metric.name << ": _total is added for counters";
    EXPECT_EQ(metric.label.find(" = "), std::string_view::npos) << metric.label;
  }
}

TEST_F(StateFileTest, WritesAtomicallyWithMode0640CreatingTheDirectory) {
  const fs::path path = dir_ / "run" / "aurelay" / "aurelay.state";
  Status written = write_state_file(path.string(), snapshot_);
  ASSERT_TRUE(written.ok()) << written.error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(parse_state(testing::read_file(path)).at("records received"),
            std::to_string(metrics_.records_received.load()));

  // A second write replaces the file; no temporary files are left behind.
  metrics_.records_received.store(5);
  written = write_state_file(path.string(), snapshot_);
  ASSERT_TRUE(written.ok()) << written.error();
  EXPECT_EQ(parse_state(testing::read_file(path)).at("records received"), "5");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(StateFileTest, FailureIsAValueNamingThePath) {
  const fs::path blocker = dir_ / "file";
  std::ofstream(blocker) << "x";
  const Status written = write_state_file((blocker / "aurelay.state").string(), snapshot_);
  EXPECT_FALSE(written.ok());
  EXPECT_NE(written.error().find(blocker.string()), std::string::npos) << written.error();
}

}  // namespace
}  // namespace aurelay::collector
