// Degraded modes an operator must hear about: each is counted (in the metrics file) and warned
// about in the log, once per interval however often it happens. Those that need no kernel are
// driven here: a malformed record, a document the server rejects (dead letter), a full spool.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "aurelay_process.h"
#include "output/mozdef_test_server.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

// The value of `name` in a Prometheus text file; -1 when absent.
double metric_value(const std::filesystem::path& file, const std::string& name) {
  const std::string text = "\n" + read_file(file);
  const std::string prefix = "\n" + name + " ";
  const auto at = text.find(prefix);
  return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + prefix.size(), nullptr);
}

TEST(DegradedWarnings, MalformedRecordsAreCountedAndWarnedAboutOnce) {
  TempDir dir;
  std::string input;
  for (int serial = 1; serial <= 20; ++serial) {
    input += login_record(serial);
    input += "type=USER_LOGIN msg=audit(garbage\n";  // 20 malformed lines, 1 warning
  }
  write_file(dir / "input.log", input);
  CommandResult run = run_command(
      {AURELAY_BINARY, "--config", private_config(dir), "--input", (dir / "input.log").string(),
       "--output", (dir / "out.json").string(), "--metrics_file", (dir / "aurelay.prom").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(documents_in(dir / "out.json").size(), 20u);
  EXPECT_EQ(metric_value(dir / "aurelay.prom", "aurelay_parse_errors_total"), 20);
  EXPECT_EQ(count_occurrences(run.err, "malformed audit record"), 1u) << run.err;
  EXPECT_NE(run.err.find("audit(garbage"), std::string::npos) << run.err;
}

TEST(DegradedWarnings, RejectedDocumentGoesToTheDeadLetterFileWithAWarning) {
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson", {"--reject-marker", "rejectme"});
  std::string input;
  for (int serial = 1; serial <= 10; ++serial)
    input += login_record(serial, serial == 5 ? "rejectme" : "root");
  write_file(dir / "input.log", input);
  CommandResult run =
      run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                   (dir / "input.log").string(), "--output", server.url("/_bulk"), "--spool_dir",
                   (dir / "spool").string(), "--dead_letter_file", (dir / "dead.ndjson").string(),
                   "--metrics_file", (dir / "aurelay.prom").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("rejected a document with HTTP 400"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("written to " + (dir / "dead.ndjson").string()), std::string::npos)
      << run.err;
  const auto dead = documents_in(dir / "dead.ndjson");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(read_file(dir / "dead.ndjson").find("rejectme"), std::string::npos);
  EXPECT_EQ(metric_value(dir / "aurelay.prom", "aurelay_documents_rejected_total"), 1);
  EXPECT_EQ(metric_value(dir / "aurelay.prom", "aurelay_documents_dead_lettered_total"), 1);
  EXPECT_EQ(metric_value(dir / "aurelay.prom", "aurelay_documents_delivered_total"), 9);
}

TEST(DegradedWarnings, FullSpoolDropsAreCountedAndWarnedAbout) {
  constexpr int kEvents = 20000;  // far more than the 1 MiB spool holds
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  EXPECT_EQ(server.command("refuse"), "ok");
  std::string input;
  for (int serial = 1; serial <= kEvents; ++serial) input += login_record(serial);
  write_file(dir / "input.log", input);
  AurelayProcess aurelay({AURELAY_BINARY,
                          "--config",
                          private_config(dir),
                          "--input",
                          (dir / "input.log").string(),
                          "--output",
                          server.url("/_bulk"),
                          "--spool_dir",
                          (dir / "spool").string(),
                          "--spool_max_bytes",
                          "1M",
                          "--spool_full_action",
                          "drop_newest",
                          "--retry_base_ms",
                          "100",
                          "--retry_max_ms",
                          "500",
                          "--metrics_file",
                          (dir / "aurelay.prom").string(),
                          "--report_interval",
                          "1"},
                         dir / "err");
  ASSERT_TRUE(wait_for(
      [&] {
        return metric_value(dir / "aurelay.prom", "aurelay_documents_dropped_spool_full_total") > 0;
      },
      60s, 100ms))
      << aurelay.stderr_text();
  EXPECT_NE(aurelay.stderr_text().find("spool full: newest documents dropped"), std::string::npos)
      << aurelay.stderr_text();
  // Rate-limited: one warning per 10 s however many batches are dropped. The run ends with a
  // 10 s shutdown flush, so a slow machine may read stderr after a second window opened (that
  // warning then says how many it suppressed); never one per dropped batch.
  const std::string err = aurelay.stderr_text();
  const std::size_t warnings = count_occurrences(err, "warning: http sink: spool full");
  EXPECT_GE(warnings, 1u) << err;
  EXPECT_LE(warnings, 2u) << err;
  if (warnings == 2) {
    EXPECT_NE(err.find("similar message(s) suppressed"), std::string::npos) << err;
  }
  EXPECT_GT(metric_value(dir / "aurelay.prom", "aurelay_documents_spooled_total"), 0);
}

}  // namespace
}  // namespace aurelay::testing
