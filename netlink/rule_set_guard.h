// Undoing a rules file through the audit control socket: which rules were added since a snapshot
// (deleted with AUDIT_DEL_RULE) and which kernel settings it changed (put back with AUDIT_SET).
// Both only need CAP_AUDIT_CONTROL on a control socket opened before the privilege drop, where
// auditctl (which refuses to run without root) can no longer help.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "netlink/audit_control.h"

namespace aurelay::netlink {

// The rules loaded at snapshot() time, and removing the ones added since.
//
// Rules are compared by their raw bytes (struct audit_rule_data with its buf, as AUDIT_LIST_RULES
// returns them). remove_added() only deletes: a rule that was loaded at snapshot() time and was
// deleted since (by a rules file's -D, say) is NOT loaded again. A rule that was there before and
// loaded again by the file is identical to the snapshot's and stays. The control must outlive it.
class RuleSetGuard {
 public:
  explicit RuleSetGuard(AuditControl& control) : control_(control) {}

  // Lists the rules loaded now. Fails when the kernel could not be asked.
  Status snapshot();
  bool has_snapshot() const { return snapshot_.has_value(); }
  // The rules at snapshot() time (empty before it).
  const std::vector<std::string>& snapshot_rules() const;

  // Deletes every rule loaded now that was not loaded at snapshot() time. Goes on past a failed
  // deletion and fails naming every failure; deleted() counts what it deleted (across calls).
  // Without a snapshot it deletes nothing and fails.
  Status remove_added();
  std::size_t deleted() const { return deleted_; }

  // The rules loaded now that were not at snapshot() time (for counting what a file added).
  Result<std::vector<std::string>> added();

  // Keeps the rules added since snapshot() as the set to keep loaded (after a successful load).
  Status remember_added();
  // Loads again, in their order, the remembered rules that are no longer loaded (someone deleted
  // them: auditctl -D, augenrules in a package's postinst); returns how many it loaded. Goes on
  // past a rule the kernel refuses and fails naming it.
  Result<std::size_t> restore_missing();

 private:
  AuditControl& control_;
  std::optional<std::vector<std::string>> snapshot_;
  std::size_t deleted_ = 0;
  std::vector<std::string> kept_;  // remember_added()
};

// The kernel settings a rules file can change (-f failure, -b backlog_limit, --backlog_wait_time,
// -r rate_limit, -e enabled) as found at snapshot(), put back through AUDIT_SET by restore().
// `enabled` goes back to 0 or 1 as found, unless the file locked it (-e 2). The control must
// outlive it.
class AuditSettingsSnapshot {
 public:
  explicit AuditSettingsSnapshot(AuditControl& control) : control_(control) {}

  Status snapshot();
  bool has_snapshot() const { return found_.has_value(); }
  const std::optional<AuditStatus>& found() const { return found_; }

  // Sets each of the five settings that differs from the snapshot back to it; goes on past a
  // failure and fails naming every failure. A failure mode of 2 (panic) in the
  // snapshot is not set back (AuditControl::set_failure refuses it): that is reported as a
  // failure. restored() counts the settings it set (across calls).
  Status restore();
  std::size_t restored() const { return restored_; }

 private:
  AuditControl& control_;
  std::optional<AuditStatus> found_;
  std::size_t restored_ = 0;
};

}  // namespace aurelay::netlink
