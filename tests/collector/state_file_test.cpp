#include "collector/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
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
    auto set = [&](auto& field) { field.store(value++); };
    set(metrics_.records_received);
    set(metrics_.bytes_received);
    set(metrics_.enobufs);
    set(metrics_.truncated);
    set(metrics_.replace_probes);
    set(metrics_.ring_full_waits);
    set(metrics_.ring_full_dropped);
    set(metrics_.ring_depth);
    set(metrics_.ring_max_depth);
    set(metrics_.records_parsed);
    set(metrics_.parse_errors);
    set(metrics_.events_completed);
    set(metrics_.events_by_eoe);
    set(metrics_.events_by_terminal);
    set(metrics_.events_timed_out);
    set(metrics_.events_evicted);
    set(metrics_.late_records);
    set(metrics_.events_in_flight);
    set(metrics_.documents_encoded);
    set(metrics_.encode_failed);
    set(metrics_.output_queued);
    set(metrics_.batches_in_flight);
    set(metrics_.spool_bytes);
    set(metrics_.spool_segments);
    set(metrics_.delivered);
    set(metrics_.retried);
    set(metrics_.rejected);
    set(metrics_.dropped_spool_full);
    set(metrics_.dropped_output);
    set(metrics_.last_http_status);
    set(metrics_.latency_p50_ms);
    set(metrics_.latency_p99_ms);
    set(metrics_.kernel_enabled);
    set(metrics_.kernel_pid);
    set(metrics_.kernel_lost);
    set(metrics_.kernel_backlog);
    set(metrics_.kernel_backlog_limit);
    set(metrics_.continuation_events);
    set(metrics_.values_truncated);
    set(metrics_.extra_fields);
    set(metrics_.parent_known);
    set(metrics_.parent_unknown);
    set(metrics_.parent_proc_reads);
    set(metrics_.process_table_evictions);
    set(metrics_.rules_loaded);
    set(metrics_.rules_failed_lines);
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
  EXPECT_EQ(values.at("output"), "https://mozdef.example/_bulk");  // no credentials
  EXPECT_EQ(values.at("records received"), "1000");
  EXPECT_EQ(values.at("receive ENOBUFS"), "1002");
  EXPECT_EQ(values.at("ring max depth"), "1008");
  EXPECT_EQ(values.at("events timed out"), "1014");
  EXPECT_EQ(values.at("late records"), "1016");
  EXPECT_EQ(values.at("spool bytes"), "1022");
  EXPECT_EQ(values.at("documents delivered"), "1024");
  EXPECT_EQ(values.at("last HTTP status"), "1029");
  EXPECT_EQ(values.at("delivery latency p99 ms"), "1031");
  EXPECT_EQ(values.at("kernel enabled"), "1032");
  EXPECT_EQ(values.at("kernel lost"), "1034");
  EXPECT_EQ(values.at("kernel backlog limit"), "1036");
  EXPECT_EQ(values.at("continuation events"), "1037");
  EXPECT_EQ(values.at("values truncated"), "1038");
  EXPECT_EQ(values.at("fields kept in extra"), "1039");
  EXPECT_EQ(values.at("parent process known"), "1040");
  EXPECT_EQ(values.at("parent process unknown"), "1041");
  EXPECT_EQ(values.at("parent process /proc reads"), "1042");
  EXPECT_EQ(values.at("process table evictions"), "1043");
  EXPECT_EQ(values.at("rules loaded"), "1044");
  EXPECT_EQ(values.at("rules failed lines"), "1045");
  EXPECT_TRUE(values.at("glibc arena (total memory) is").ends_with(" KiB"));
  // 46 metrics, each value once.
  int metric_lines = 0;
  for (const auto& [key, value] : values) {
    if (value.size() == 4 && value[0] == '1' && value[1] == '0') ++metric_lines;
  }
  EXPECT_EQ(metric_lines, 46);
}

TEST_F(StateFileTest, WritesAtomicallyWithMode0640CreatingTheDirectory) {
  const fs::path path = dir_ / "run" / "aurelay" / "aurelay.state";
  std::string error;
  ASSERT_TRUE(write_state_file(path.string(), snapshot_, error)) << error;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(parse_state(testing::read_file(path)).at("records received"), "1000");

  // A second write replaces the file; no temporary files are left behind.
  metrics_.records_received.store(5);
  ASSERT_TRUE(write_state_file(path.string(), snapshot_, error)) << error;
  EXPECT_EQ(parse_state(testing::read_file(path)).at("records received"), "5");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(StateFileTest, FailureIsAValueNamingThePath) {
  const fs::path blocker = dir_ / "file";
  std::ofstream(blocker) << "x";
  std::string error;
  EXPECT_FALSE(write_state_file((blocker / "aurelay.state").string(), snapshot_, error));
  EXPECT_NE(error.find(blocker.string()), std::string::npos) << error;
}

}  // namespace
}  // namespace aurelay::collector
