// aurelay against the real kernel, for the kernel suite:
//
//   TempDir dir;                                         // removed with everything in it
//   AurelayProcess aurelay = live_aurelay(dir, {"--output", dir / "out.json"});
//   ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 10s)) << aurelay.stderr_text();
//   ...
//   EXPECT_EQ(aurelay.stop(), 0);                        // SIGTERM, exit status
//
// live_aurelay() prepends the live-test defaults (a private config file, no rules file,
// backlog_wait_time 0, state file, spool and dead letters in `dir`); for argv exactly as given use
// AurelayProcess(argv, dir / "stderr.log").
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aurelay_process.h"
#include "kernel_guard.h"
#include "test_support.h"

namespace aurelay::testing {

// AURELAY_BINARY with the live-test defaults, then `args`; stderr in `dir`/stderr.log, stdin
// /dev/null.
inline AurelayProcess live_aurelay(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{AURELAY_BINARY,
                                "--config",
                                private_config(dir),
                                "--rules_file",
                                "",
                                "--backlog_wait_time",
                                "0",
                                "--state_file",
                                dir / "aurelay.state",
                                "--log_level",
                                "info"};
  argv.insert(argv.end(), args.begin(), args.end());
  return AurelayProcess(argv, dir / "stderr.log");
}

// Waits until the kernel's audit pid is `pid` (registration done).
inline bool wait_for_audit_pid(KernelAuditGuard& guard, std::uint32_t pid,
                               std::chrono::seconds timeout) {
  return wait_for([&] { return guard.status().pid == pid; }, timeout);
}

// Waits until aurelay has logged that it started (its pipeline threads run, its input is open:
// registered, or bound to the multicast group).
inline bool wait_for_started(const AurelayProcess& aurelay, std::chrono::seconds timeout) {
  return wait_for(
      [&] { return aurelay.stderr_text().find(" started: input ") != std::string::npos; }, timeout);
}

// How many complete lines (documents) of the file at `path` contain `token`.
inline std::size_t lines_containing(const std::filesystem::path& path, const std::string& token) {
  std::istringstream in(read_file(path));
  std::size_t count = 0;
  for (std::string line; std::getline(in, line);)
    if (!in.eof() && line.find(token) != std::string::npos) ++count;
  return count;
}

// The project's shipped rules: audisp-json's example rules (-D, -b 32768, -i, -e 1, -r 1000, ...).
inline const std::string kShippedRules =
    std::string(AURELAY_TESTS_DIR) + "/../rules/example_audit.rules";

// The shipped rules with their `-r 1000` made `-r 0`, written to `path`: on a busy test host
// (parallel builds, every exec audited) the kernel's rate limit drops the very events a test waits
// for (DaemonRules tests the limit itself). False when the line is not there.
inline bool write_rules_without_rate_limit(const std::string& path) {
  std::istringstream shipped(read_file(kShippedRules));
  std::ofstream out(path);
  bool replaced = false;
  for (std::string line; std::getline(shipped, line);) {
    if (line == "-r 1000") {
      line = "-r 0";
      replaced = true;
    }
    out << line << '\n';
  }
  out.close();
  return replaced && out.good();
}

// The kernel settings a rules file or aurelay may change are back as they were `before`, and no
// process holds the audit pid.
inline void expect_kernel_as_found(const netlink::AuditStatus& before,
                                   const netlink::AuditStatus& after) {
  EXPECT_EQ(after.pid, 0u);
  EXPECT_EQ(after.enabled, before.enabled);
  EXPECT_EQ(after.failure, before.failure);
  EXPECT_EQ(after.backlog_limit, before.backlog_limit);
  EXPECT_EQ(after.backlog_wait_time, before.backlog_wait_time);
  EXPECT_EQ(after.rate_limit, before.rate_limit);
}

}  // namespace aurelay::testing
