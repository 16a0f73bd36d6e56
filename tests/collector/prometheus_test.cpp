#include "collector/telemetry/prometheus.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "test_support.h"

namespace aurelay::collector {
namespace {

namespace fs = std::filesystem;

struct Family {
  std::string help;
  std::string type;
  std::map<std::string, std::string> samples;  // name{labels} -> value
};

// A strict reader of the text format: HELP then TYPE then the samples of one family, once each.
std::map<std::string, Family> parse_exposition(const std::string& text) {
  std::map<std::string, Family> families;
  std::istringstream in(text);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      current = rest.substr(0, rest.find(' '));
      EXPECT_FALSE(families.contains(current)) << "family twice: " << current;
      families[current].help = rest.substr(current.size() + 1);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      EXPECT_EQ(rest.substr(0, rest.find(' ')), current) << line;
      families[current].type = rest.substr(rest.find(' ') + 1);
    } else {
      const auto space = line.rfind(' ');
      EXPECT_NE(space, std::string::npos) << line;
      const std::string sample = line.substr(0, space);
      EXPECT_EQ(sample.substr(0, sample.find('{')), current) << "sample outside its family";
      families[current].samples[sample] = line.substr(space + 1);
    }
  }
  return families;
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::int64_t value = 1;
    visit_metrics(metrics_, [&](const MetricDescriptor&, auto& field) { field.store(value++); });
    metrics_.kernel_enabled.store(-1);
    snapshot_ = {&metrics_, "1.2.3", 1700000000};
  }
  Metrics metrics_;
  PrometheusSnapshot snapshot_;
};

TEST_F(PrometheusTest, EveryMetricOfTheListWithHelpTypeAndValue) {
  const auto families = parse_exposition(render_prometheus(snapshot_));
  std::int64_t expected = 1;
  std::set<std::string> names;
  for (const MetricDescriptor& metric : kMetricDescriptors) {
    const std::string name = prometheus_name(metric);
    names.insert(name);
    ASSERT_TRUE(families.contains(name)) << name;
    const Family& family = families.at(name);
    EXPECT_EQ(family.help, prometheus_help(metric)) << name;
    if (metric.type == MetricType::counter) {
      EXPECT_EQ(family.type, "counter") << name;
      EXPECT_TRUE(name.ends_with("_total")) << name;
    } else {
      EXPECT_EQ(family.type, "gauge") << name;
    }
    const std::string want = metric.name == "kernel_enabled" ? "-1" : std::to_string(expected);
    EXPECT_EQ(family.samples.at(prometheus_sample(metric)), want) << name;
    ++expected;
  }
  EXPECT_EQ(families.size(), names.size() + 2);
  // One family with a sample per filter.
  const Family& filtered = families.at("aurelay_events_filtered_total");
  EXPECT_EQ(filtered.type, "counter");
  EXPECT_EQ(filtered.samples.size(), 4u);
  EXPECT_TRUE(filtered.samples.contains("aurelay_events_filtered_total{filter=\"syscall\"}"));
  EXPECT_EQ(families.at("aurelay_info").samples.at("aurelay_info{version=\"1.2.3\"}"), "1");
  EXPECT_EQ(families.at("aurelay_start_time_seconds").samples.at("aurelay_start_time_seconds"),
            "1700000000");
  EXPECT_EQ(families.at("aurelay_kernel_lost_total").type, "counter");
  EXPECT_EQ(families.at("aurelay_ring_depth").type, "gauge");
}

TEST_F(PrometheusTest, LabelValueIsEscaped) {
  snapshot_.version = "a\"b\\c\nd";
  const std::string text = render_prometheus(snapshot_);
  EXPECT_NE(text.find("aurelay_info{version=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST_F(PrometheusTest, WrittenAtomicallyReadableByOthers) {
  testing::TempDir dir;
  const fs::path path = dir / "textfile" / "aurelay.prom";
  Status written = write_prometheus_file(path.string(), snapshot_);
  ASSERT_TRUE(written.ok()) << written.error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(testing::read_file(path), render_prometheus(snapshot_));
  metrics_.records_received.store(77);
  written = write_prometheus_file(path.string(), snapshot_);
  ASSERT_TRUE(written.ok()) << written.error();
  EXPECT_NE(testing::read_file(path).find("\naurelay_records_received_total 77\n"),
            std::string::npos);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);  // no temporary file left
}

}  // namespace
}  // namespace aurelay::collector
