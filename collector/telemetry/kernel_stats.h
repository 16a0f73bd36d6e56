// Statistics of the main thread's kernel-facing components (daemon.cpp): the kernel's audit
// status, polled with AUDIT_GET by the KernelStatusMonitor, and the rules that LoadedRules loaded
// from rules_file at start. Lists as in base/stats.h.
#pragma once

#include "base/stats.h"

namespace aurelay::collector {

// clang-format off
#define AURELAY_KERNEL_STATS(COUNTER, GAUGE)                                                      \
  GAUGE(kernel_enabled, "kernel enabled", "Kernel audit enabled flag (0 off, 1 on, 2 locked, -1 unknown)") \
  GAUGE(kernel_audit_pid, "kernel audit pid", "Process the kernel sends audit records to (-1 unknown)") \
  COUNTER(kernel_lost, "kernel lost", "Audit records the kernel lost since start (backlog or rate limit)") \
  GAUGE(kernel_backlog, "kernel backlog", "Audit records waiting in the kernel backlog")        \
  GAUGE(kernel_backlog_limit, "kernel backlog limit", "Kernel audit backlog limit")        \
  COUNTER(restart_gap_serials, "restart gap serials", "Serials the kernel handed out between the previous run's last record and this run's first (events it dropped while no daemon was registered, estimated at start)")

#define AURELAY_RULES_STATS(COUNTER, GAUGE)                                                       \
  GAUGE(rules_loaded, "rules loaded", "Audit rules the rules file added to the kernel")         \
  GAUGE(rules_failed_lines, "rules failed lines", "Lines of the rules file auditctl could not load") \
  COUNTER(rules_repairs, "rules repairs", "Times rules someone else deleted were loaded again (rules_repair)")
// clang-format on

struct KernelStats {
  AURELAY_STATS_MEMBERS(AURELAY_KERNEL_STATS)

  KernelStats() {
    // Unknown until the kernel is asked (and never, when replaying a file).
    set(kernel_enabled, -1);
    set(kernel_audit_pid, -1);
  }
};

struct RulesStats {
  AURELAY_STATS_MEMBERS(AURELAY_RULES_STATS)
};

}  // namespace aurelay::collector
