#include "collector/telemetry/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "test_support.h"

namespace aurelay::collector {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kFirstMetricValue = 1'000'000'000'000;

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
    // Every metric gets a distinct value so a swapped or missing line shows; far above any pid
    // or time of day the other lines hold (the process id once fell among small values).
    std::int64_t value = kFirstMetricValue;
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
  std::int64_t expected = kFirstMetricValue;
  for (const MetricDescriptor& metric : kMetricDescriptors) {
    ASSERT_TRUE(values.contains(std::string(metric.label))) << metric.label << " missing";
    EXPECT_EQ(values.at(std::string(metric.label)), std::to_string(expected++)) << metric.label;
  }
  std::size_t metric_lines = 0;
  for (const auto& [key, value] : values) {
    const long long number = std::atoll(value.c_str());
    if (number >= kFirstMetricValue && number < expected) ++metric_lines;
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

// The metrics as operators, dashboards and the kernel tests know them: each component declares its
// own list, and their concatenation keeps every name, label and type, in this order.
TEST(MetricList, ConcatenationKeepsEveryNameLabelTypeAndTheirOrder) {
  struct Known {
    std::string_view name;
    std::string_view label;
    MetricType type;
  };
  // clang-format off
  const Known known[] = {
      {"kernel_enabled", "kernel enabled", MetricType::gauge},
      {"kernel_audit_pid", "kernel audit pid", MetricType::gauge},
      {"kernel_lost", "kernel lost", MetricType::counter},
      {"kernel_backlog", "kernel backlog", MetricType::gauge},
      {"kernel_backlog_limit", "kernel backlog limit", MetricType::gauge},
      {"restart_gap_serials", "restart gap serials", MetricType::counter},
      {"rules_loaded", "rules loaded", MetricType::gauge},
      {"rules_failed_lines", "rules failed lines", MetricType::gauge},
      {"rules_repairs", "rules repairs", MetricType::counter},
      {"records_received", "records received", MetricType::counter},
      {"bytes_received", "bytes received", MetricType::counter},
      {"receive_enobufs", "receive ENOBUFS", MetricType::counter},
      {"records_truncated", "records truncated", MetricType::counter},
      {"replace_probes_ignored", "replace probes ignored", MetricType::counter},
      {"netlink_datagrams", "netlink datagrams received", MetricType::counter},
      {"netlink_non_records", "netlink non-record messages ignored", MetricType::counter},
      {"netlink_malformed", "netlink malformed messages", MetricType::counter},
      {"netlink_foreign_sender", "netlink foreign sender messages", MetricType::counter},
      {"receive_errors", "receive errors", MetricType::counter},
      {"netlink_reads", "netlink reads", MetricType::counter},
      {"netlink_empty_reads", "netlink empty reads", MetricType::counter},
      {"reader_waits", "reader waits", MetricType::counter},
      {"record_batches_handed_over", "record batches handed over", MetricType::counter},
      {"ring_full_waits", "ring full waits", MetricType::counter},
      {"ring_full_dropped", "ring full records dropped", MetricType::counter},
      {"ring_depth", "ring depth", MetricType::gauge},
      {"ring_max_depth", "ring max depth", MetricType::gauge},
      {"process_context_hits", "process context hits", MetricType::counter},
      {"process_context_proc_reads", "process context /proc reads", MetricType::counter},
      {"process_context_inherited", "process context inherited", MetricType::counter},
      {"process_context_unknown", "process context unknown", MetricType::counter},
      {"process_context_evictions", "process context evictions", MetricType::counter},
      {"process_context_pidfd_checks", "process context pidfd checks", MetricType::counter},
      {"correlator_waits", "correlator waits", MetricType::counter},
      {"records_parsed", "records parsed", MetricType::counter},
      {"parse_errors", "record parse errors", MetricType::counter},
      {"events_filtered_key", "events filtered by key", MetricType::counter},
      {"events_filtered_syscall", "events filtered by syscall", MetricType::counter},
      {"events_filtered_exe", "events filtered by exe", MetricType::counter},
      {"events_filtered_uid", "events filtered by uid", MetricType::counter},
      {"first_serial", "first serial", MetricType::gauge},
      {"last_serial", "last serial", MetricType::gauge},
      {"correlator_replace_ignored", "replace records ignored by correlator", MetricType::counter},
      {"events_completed", "events completed", MetricType::counter},
      {"events_by_eoe", "events completed by EOE", MetricType::counter},
      {"events_by_terminal", "events completed by terminal record", MetricType::counter},
      {"events_timed_out", "events timed out", MetricType::counter},
      {"events_evicted", "events evicted (too many in flight)", MetricType::counter},
      {"events_at_end_of_input", "events completed at end of input", MetricType::counter},
      {"late_records", "late records", MetricType::counter},
      {"late_eoe", "late EOE records", MetricType::counter},
      {"orphan_eoe", "orphan EOE records", MetricType::counter},
      {"continuation_events", "continuation events", MetricType::counter},
      {"events_in_flight", "events in flight", MetricType::gauge},
      {"documents_encoded", "documents encoded", MetricType::counter},
      {"continuation_documents", "continuation documents", MetricType::counter},
      {"values_truncated", "values truncated", MetricType::counter},
      {"invalid_utf8_fixed", "values with invalid UTF-8 escaped", MetricType::counter},
      {"extra_fields", "fields kept in extra", MetricType::counter},
      {"unknown_syscalls", "unknown syscalls", MetricType::counter},
      {"id_lookups", "uid/gid name lookups", MetricType::counter},
      {"parent_known", "parent process known", MetricType::counter},
      {"parent_unknown", "parent process unknown", MetricType::counter},
      {"parent_sighted", "parent process sighted", MetricType::counter},
      {"parent_reused", "parent pid reused", MetricType::counter},
      {"parent_proc_reads", "parent process /proc reads", MetricType::counter},
      {"process_table_evictions", "process table evictions", MetricType::counter},
      {"output_queued_documents", "output queued documents", MetricType::gauge},
      {"output_batches_in_flight", "output batches in flight", MetricType::gauge},
      {"documents_in_flight", "documents in flight", MetricType::gauge},
      {"spool_documents", "spool documents", MetricType::gauge},
      {"spool_bytes", "spool bytes", MetricType::gauge},
      {"spool_segments", "spool segments", MetricType::gauge},
      {"documents_delivered", "documents delivered", MetricType::counter},
      {"batches_delivered", "batches delivered", MetricType::counter},
      {"output_bytes_written", "output bytes written", MetricType::counter},
      {"output_requests", "HTTP requests", MetricType::counter},
      {"output_transport_errors", "HTTP transport errors", MetricType::counter},
      {"batches_retried", "batches retried", MetricType::counter},
      {"documents_retried", "documents retried", MetricType::counter},
      {"output_write_errors", "output write errors", MetricType::counter},
      {"output_reopens", "output reopens", MetricType::counter},
      {"documents_rejected", "documents rejected", MetricType::counter},
      {"rejected_splits", "rejected batches split", MetricType::counter},
      {"documents_dead_lettered", "documents dead-lettered", MetricType::counter},
      {"dead_letter_errors", "dead letter write errors", MetricType::counter},
      {"documents_spooled", "documents spooled", MetricType::counter},
      {"documents_unspooled", "documents read from spool", MetricType::counter},
      {"spool_corrupt_records", "spool corrupt records", MetricType::counter},
      {"spool_corrupt_bytes", "spool corrupt bytes", MetricType::counter},
      {"spool_write_errors", "spool write errors", MetricType::counter},
      {"documents_dropped_spool_full", "documents dropped spool full", MetricType::counter},
      {"documents_dropped_queue_full", "documents dropped queue full", MetricType::counter},
      {"documents_dropped_rejected", "documents dropped rejected", MetricType::counter},
      {"documents_dropped_output", "documents dropped output", MetricType::counter},
      {"output_stalls", "output stalls", MetricType::counter},
      {"last_http_status", "last HTTP status", MetricType::gauge},
      {"delivery_latency_p50_ms", "delivery latency p50 ms", MetricType::gauge},
      {"delivery_latency_p99_ms", "delivery latency p99 ms", MetricType::gauge},
      {"amqp_published", "amqp messages published", MetricType::counter},
      {"amqp_confirmed", "amqp messages confirmed", MetricType::counter},
      {"amqp_nacked", "amqp messages nacked", MetricType::counter},
      {"amqp_returned", "amqp messages returned", MetricType::counter},
      {"amqp_in_flight", "amqp messages in flight", MetricType::gauge},
      {"amqp_reconnects", "amqp reconnects", MetricType::counter},
      {"amqp_current_broker", "amqp current broker index", MetricType::gauge},
      {"audit_log_records", "audit log records", MetricType::counter},
      {"audit_log_bytes", "audit log bytes", MetricType::counter},
      {"audit_log_records_not_written", "audit log records not written", MetricType::counter},
      {"audit_log_rotations", "audit log rotations", MetricType::counter},
      {"audit_log_write_errors", "audit log write errors", MetricType::counter},
      {"audit_log_disk_actions", "audit log disk actions", MetricType::counter},
      {"audit_log_auparse_lookups", "audit log auparse lookups", MetricType::counter},
      {"audit_log_suspended", "audit log suspended", MetricType::gauge},
      {"audit_log_size_bytes", "audit log size bytes", MetricType::gauge},
  };
  // clang-format on
  ASSERT_EQ(kMetricDescriptors.size(), std::size(known));
  for (std::size_t i = 0; i < std::size(known); ++i) {
    EXPECT_EQ(kMetricDescriptors[i].name, known[i].name) << i;
    EXPECT_EQ(kMetricDescriptors[i].label, known[i].label) << i;
    EXPECT_EQ(kMetricDescriptors[i].type, known[i].type) << known[i].name;
  }
}

// A component handed its part of Metrics writes there; the main thread reads it with no copy.
TEST(MetricList, ComponentsWriteTheirPartOfMetrics) {
  Metrics metrics;
  correlate::ProcessTable table({}, &metrics);
  table.observe(10, 1, "sh", "/bin/sh");
  EXPECT_EQ(table.name_of(10), "sh");
  EXPECT_EQ(table.name_of(11), "");
  EXPECT_EQ(metrics.parent_known.load(), 1u);
  EXPECT_EQ(metrics.parent_unknown.load(), 1u);
  EXPECT_EQ(&table.stats().parent_known, &metrics.parent_known);
  // Unknown until asked.
  EXPECT_EQ(metrics.kernel_enabled.load(), -1);
  EXPECT_EQ(metrics.kernel_audit_pid.load(), -1);
  EXPECT_EQ(metrics.amqp_current_broker.load(), -1);
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
