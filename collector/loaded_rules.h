// The audit rules the daemon loads (rules_file or rules_dir) and keeps loaded: loading through
// auditctl while still root, undoing and repairing through the audit control socket.
#pragma once

#include <cstddef>
#include <string>

#include "base/result.h"
#include "collector/config/config.h"
#include "collector/telemetry/kernel_stats.h"
#include "netlink/audit_control.h"
#include "netlink/rule_set_guard.h"

namespace aurelay::collector {

// Where the rules come from, for messages: "rules_dir DIR" or the rules file.
std::string rules_source(const Config& config);

// Names each kernel setting set explicitly in the config (file or command line) that the rules
// changed: the rules win, and the operator who set both learns which one is in force.
void warn_where_rules_file_won(const Config& config, netlink::AuditControl& control);

// Rules loaded from rules_file, and how to take them out again. Loading runs `auditctl -R` (still
// root then); undoing goes through the audit control socket opened before, which only needs the
// CAP_AUDIT_CONTROL kept by the privilege drop (auditctl refuses to run without root). At exit the
// rules that were not loaded before are deleted (compared by their raw kernel form) and the
// settings a rules file can change (-f, -b, --backlog_wait_time, -r, -e) are put back as they
// were before the file (the KernelSettingsGuard then restores what aurelay itself set). Rules
// that were loaded before and that the file's -D deleted are not loaded again.
//
// A failed line is handled as auditctl -R does (rules_errors = follow_file): after a line -i or
// -c it is a warning with file and line, counted (rules failed lines), and the rules that loaded
// stay; without it auditctl stopped there, and the load is undone. rules_errors = fatal undoes
// the load for any failed line.
class LoadedRules {
 public:
  explicit LoadedRules(netlink::AuditControl& control) : rule_set_(control), settings_(control) {}
  ~LoadedRules() { (void)unload(); }
  LoadedRules(const LoadedRules&) = delete;
  LoadedRules& operator=(const LoadedRules&) = delete;

  // Fails when the load failed (the partial load is undone).
  Status load(const Config& config, RulesStats& stats);

  // Leaves the loaded rules and settings as they are (a locked kernel refuses to undo them).
  void keep() { loaded_ = false; }

  // Loads again the rules of the set that someone deleted since; how many it loaded.
  Result<std::size_t> repair();

  // Deletes the added rules and restores the settings; fails (each failure logged at error
  // level) when either could not be done completely. Idempotent.
  Status unload();

 private:
  netlink::RuleSetGuard rule_set_;
  netlink::AuditSettingsSnapshot settings_;
  bool loaded_ = false;
};

// Someone deleted audit rules (the stream said so): loads again those of aurelay's set that are
// gone, with one warning naming who deleted them (`who`).
void repair_rules(LoadedRules& rules, const std::string& who, RulesStats& stats);

}  // namespace aurelay::collector
