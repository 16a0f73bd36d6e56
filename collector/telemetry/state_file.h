// The state file: `key = value` lines in the style of auditd.state (written on SIGCONT, so
// `auditctl --signal state` works while aurelay holds the audit pid, and every report_interval),
// followed by every counter of the pipeline's Metrics.
#pragma once

#include <ctime>
#include <string>

#include "base/result.h"
#include "collector/telemetry/metrics.h"

namespace aurelay::collector {

struct StateSnapshot {
  const Metrics* metrics = nullptr;  // required
  std::string version;               // e.g. AURELAY_VERSION
  std::string config_file;           // empty = defaults
  std::string input;                 // netlink | multicast | stdin | FILE
  std::string output;                // stdout | FILE | URL (credentials are stripped)
  std::time_t started = 0;           // process start (wall clock)
  std::time_t now = 0;               // 0 = time(nullptr)
};

// The file's text (exposed for tests and logging).
std::string render_state(const StateSnapshot& snapshot);

// Writes render_state() to `path` atomically: a temp file in the same directory, fsync, rename,
// fsync of the directory. Mode 0640; the directory is created (0750) when missing.
Status write_state_file(const std::string& path, const StateSnapshot& snapshot);

}  // namespace aurelay::collector
