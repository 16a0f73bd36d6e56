// Loading audit rules through auditctl, spawned without a shell (posix_spawn), with its output
// captured so failures are reported per line of the rules file. Also the few auditctl calls
// needed to undo a load (list and delete rules, read and restore kernel settings), used by the
// tests; the daemon undoes its load over netlink (netlink/rule_set_guard.h), which still works
// after it dropped root.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace aurelay::rules {

struct RuleLineError {
  int line = 0;         // 1-based line of the file auditctl read
  std::string where;    // "FILE:LINE" of the rule as the operator wrote it
  std::string message;  // auditctl's explanation, e.g. "Syscall name unknown: nosuchcall"
};

struct [[nodiscard]] RulesLoadResult {
  // auditctl read the file to its end: every rule line loaded, or the lines that failed came
  // after the file's -i (or -c), which tells auditctl to go on past a failed line (they are in
  // line_errors). False when auditctl could not run, or stopped at a failed line (without -i/-c
  // before it, auditctl stops at the first failure: the lines before it stay loaded).
  bool ok = false;
  bool auditctl_missing = false;  // the program does not exist or is not executable
  int exit_status = -1;           // auditctl's exit status; -1 when it did not run or died
  int continue_line = 0;          // first line of the file that is `-i` or `-c`; 0 = none
  int stopped_at_line = 0;        // the failed line auditctl stopped at; 0 = it did not stop there
  std::vector<RuleLineError> line_errors;  // every failed line, in file order
  std::string output;                      // auditctl's stdout and stderr, as captured
  std::string error;                       // one-line summary when !ok, naming file and line(s)
};

// "FILE:LINE: message", how a failed line is reported.
std::string describe_line_error(const RuleLineError& failure);

// How the lines of the file handed to auditctl are named in messages: by default the file and
// its line; a merged rule set (rules/rules_dir.h) names the file each line came from.
struct RulesFileNames {
  std::string name;                                // the file in messages; empty = its path
  std::function<std::string(int line)> origin_of;  // "FILE:LINE"; empty = name:line
};

// The first line of a rules file that is `-i` (ignore errors) or `-c` (continue past errors):
// from that line on auditctl -R goes on past a failed line. 0 when there is none or the file
// cannot be read. Only a line holding the option alone counts (the way rules files write it).
int continue_on_error_line(const std::string& rules_file);

// Runs `auditctl_path -R rules_file` and reports each failed line (auditctl's "There was an
// error in line N of FILE" with the messages before it). Lines loaded stay loaded whatever the
// outcome: the caller decides whether to go on or undo.
RulesLoadResult load_rules_file(const std::string& rules_file, const std::string& auditctl_path,
                                const RulesFileNames& names = {});

// The result of running a program: exit status (-1 when it could not run or was killed), and its
// stdout and stderr interleaved as they came.
struct ProgramResult {
  int exit_status = -1;
  int spawn_errno = 0;  // set when posix_spawn failed
  std::string output;
};
ProgramResult run_program(const std::vector<std::string>& argv);

// `auditctl -l` as lines ("-a always,exit -F arch=b64 -S execve -F key=exec", "-w /etc/passwd
// -p wa -k identity"); empty when no rules are loaded.
Result<std::vector<std::string>> list_rules(const std::string& auditctl_path);

// Deletes each listed rule (as printed by list_rules): "-a X" becomes "-d X", "-w P ..." becomes
// "-W P ...". Stops at the first failure.
Status delete_rules(const std::string& auditctl_path, const std::vector<std::string>& rules);

// The kernel settings auditctl -s reports and a rules file can change.
struct KernelAuditSettings {
  long enabled = -1;
  long failure = -1;
  long pid = -1;
  long rate_limit = -1;
  long backlog_limit = -1;
  long backlog_wait_time = -1;
};
Result<KernelAuditSettings> read_kernel_settings(const std::string& auditctl_path);
// Sets enabled (unless 2 = locked), failure (unless 2 = panic), rate_limit, backlog_limit and
// backlog_wait_time back to `settings`.
Status restore_kernel_settings(const std::string& auditctl_path,
                               const KernelAuditSettings& settings);

}  // namespace aurelay::rules
