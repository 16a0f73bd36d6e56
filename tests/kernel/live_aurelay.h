// aurelay against the real kernel, for the kernel suite:
//
//   TempDir dir;                                         // removed with everything in it
//   AurelayProcess aurelay = live_aurelay(dir, {"--output", dir / "out.json"});
//   ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 10s)) << aurelay.stderr_text();
//   ...
//   EXPECT_EQ(aurelay.stop(), 0);                        // SIGTERM, exit status
//
// live_aurelay() prepends the live-test defaults (no rules file, backlog_wait_time 0, state file
// in `dir`); for argv exactly as given use AurelayProcess(argv, dir / "stderr.log").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "aurelay_process.h"
#include "kernel_guard.h"
#include "test_support.h"

namespace aurelay::testing {

// AURELAY_BINARY with the live-test defaults, then `args`; stderr in `dir`/stderr.log, stdin
// /dev/null.
inline AurelayProcess live_aurelay(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{
      AURELAY_BINARY,        "--rules_file", "",    "--backlog_wait_time", "0", "--state_file",
      dir / "aurelay.state", "--log_level",  "info"};
  argv.insert(argv.end(), args.begin(), args.end());
  return AurelayProcess(argv, dir / "stderr.log");
}

// Waits until the kernel's audit pid is `pid` (registration done).
inline bool wait_for_audit_pid(KernelAuditGuard& guard, std::uint32_t pid,
                               std::chrono::seconds timeout) {
  return wait_for([&] { return guard.status().pid == pid; }, timeout);
}

}  // namespace aurelay::testing
