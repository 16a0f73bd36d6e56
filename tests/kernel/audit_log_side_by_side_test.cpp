// aurelay's local audit log against auditd's, through one workload: the real auditd is the audit
// daemon (unicast, ENRICHED log) and aurelay reads the same records on multicast, loading the
// shipped example rules and writing its own ENRICHED log. Between two markers the two logs hold
// the same lines, and ausearch and aureport give the same answers on both.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_guard.h"
#include "live_aurelay.h"
#include "test_support.h"

namespace aurelay {
namespace {

using namespace std::chrono_literals;
using testing::read_file;
using testing::run_command;

// The serial of an audit log line ("… msg=audit(1700000000.123:456): …"), 0 when none.
std::uint64_t serial_of(const std::string& line) {
  const std::size_t stamp = line.find("msg=audit(");
  if (stamp == std::string::npos) return 0;
  const std::size_t colon = line.find(':', stamp);
  if (colon == std::string::npos) return 0;
  return std::strtoull(line.c_str() + colon + 1, nullptr, 10);
}

// The serial of the USER record carrying `marker` in `log`, 0 when absent.
std::uint64_t marker_serial(const std::string& log, const std::string& marker) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("type=USER ") && line.find(marker) != std::string::npos)
      return serial_of(line);
  }
  return 0;
}

// The kernel's record lines of `log` with serials in [first, last], in the log's order.
std::vector<std::string> window(const std::string& log, std::uint64_t first, std::uint64_t last) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("type=DAEMON_")) continue;
    const std::uint64_t serial = serial_of(line);
    if (serial >= first && serial <= last) lines.push_back(line);
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

TEST(AuditLogSideBySide, AusearchAndAureportReadTheSameRecordsAsInAuditdsLog) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (testing::TestAuditd::binary() == nullptr) GTEST_SKIP() << "auditd not installed";
  if (!testing::is_executable("/usr/sbin/ausearch") ||
      !testing::is_executable("/usr/sbin/aureport"))
    GTEST_SKIP() << "ausearch or aureport not installed";
  if (run_command({"auditctl", "-l"}).out != "No rules\n")
    GTEST_SKIP() << "audit rules are loaded on this host";
  // The shipped rules are loaded here (beside an audit daemon aurelay leaves the kernel alone)
  // and all deleted at the end; the guard restores the settings they change (-e, -b, -r).
  struct DeleteRulesAtEnd {
    ~DeleteRulesAtEnd() { run_command({"auditctl", "-D"}); }
  } delete_rules_at_end;
  testing::TempDir dir;
  const std::string rules = (dir / "rules").string();
  ASSERT_TRUE(testing::write_rules_without_rate_limit(rules));
  std::string error;
  testing::TestAuditd auditd;
  ASSERT_TRUE(auditd.start(guard.control(), error)) << error;
  const auto loaded = run_command({"auditctl", "-R", rules});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.output();
  const auto log_path = dir / "log" / "audit.log";
  testing::AurelayProcess aurelay = testing::live_aurelay(
      dir, {"--input", "multicast", "--write_logs", "yes", "--log_file", log_path.string(),
            "--output", (dir / "documents.json").string()});
  ASSERT_TRUE(testing::wait_for_started(aurelay, 10s)) << aurelay.stderr_text();

  const std::string begin = "aurelay-test-side-by-side-begin";
  const std::string end = "aurelay-test-side-by-side-end";
  ASSERT_EQ(run_command({"auditctl", "-m", begin}).exit_code, 0);
  // A workload the shipped rules audit: programs run (with arguments and paths), a failing
  // one, a write under /etc/audit (watched) made and undone by a shell.
  run_command({"/usr/bin/true"});
  run_command({"/usr/bin/id", "-u"});
  run_command({"/bin/ls", "/no/such/path"});
  run_command({"/bin/sh", "-c",
               "echo x > /etc/audit/aurelay-test-side-by-side; "
               "rm -f /etc/audit/aurelay-test-side-by-side"});
  run_command({"/usr/bin/env", "LC_ALL=C", "/usr/bin/uname", "-a"});
  ASSERT_EQ(run_command({"auditctl", "-m", end}).exit_code, 0);

  ASSERT_TRUE(testing::wait_for([&] { return marker_serial(read_file(log_path), end) != 0; }, 10s))
      << aurelay.stderr_text() << read_file(log_path).substr(0, 3000);
  ASSERT_TRUE(testing::wait_for([&] { return marker_serial(auditd.log(), end) != 0; }, 10s));
  EXPECT_EQ(aurelay.stop(), 0) << aurelay.stderr_text();
  const std::string theirs = auditd.log();  // (stop() removes auditd's directory)
  auditd.stop();
  const std::string ours = read_file(log_path);
  const std::uint64_t first = marker_serial(theirs, begin);
  const std::uint64_t last = marker_serial(theirs, end);
  ASSERT_NE(first, 0U) << theirs.substr(0, 4000);
  ASSERT_EQ(marker_serial(ours, begin), first);
  const auto our_lines = window(ours, first, last);
  const auto their_lines = window(theirs, first, last);
  ASSERT_GT(their_lines.size(), 30U);
  EXPECT_EQ(joined(our_lines), joined(their_lines));
  EXPECT_TRUE(ours.starts_with("type=DAEMON_START msg=audit(")) << ours.substr(0, 200);

  // The same answers from auditd's tools on both windows.
  testing::write_file(dir / "ours.log", joined(our_lines));
  testing::write_file(dir / "theirs.log", joined(their_lines));
  for (const std::vector<std::string>& tool :
       {std::vector<std::string>{"ausearch", "--raw", "-if"},
        std::vector<std::string>{"ausearch", "-i", "-k", "exec", "-if"},
        std::vector<std::string>{"aureport", "--summary", "-if"},
        std::vector<std::string>{"aureport", "-x", "--summary", "-if"}}) {
    auto on = [&](const std::string& file) {
      std::vector<std::string> argv = tool;
      argv.push_back((dir / file).string());
      return run_command(argv);
    };
    const auto mine = on("ours.log");
    const auto reference = on("theirs.log");
    EXPECT_EQ(mine.exit_code, 0) << tool[0] << " " << tool[1] << ": " << mine.err;
    EXPECT_EQ(mine.out, reference.out) << tool[0] << " " << tool[1];
    EXPECT_FALSE(mine.out.empty());
  }
  // And on aurelay's whole log, its own DAEMON records included.
  const auto whole = run_command({"aureport", "--summary", "-if", log_path.string()});
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_NE(whole.out.find("Number of events:"), std::string::npos) << whole.out;
}

}  // namespace
}  // namespace aurelay
