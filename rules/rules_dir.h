// A rules directory loaded as augenrules loads /etc/audit/rules.d: every *.rules file, in the
// order `ls -1v` lists them, concatenated into one rule set built exactly as augenrules builds
// audit.rules (auditd 3.0.9): comment lines and empty lines dropped; the last `-D` alone, the
// last `-b` and the last `-f` moved to the top (in that order), the last `-e` to the very end,
// earlier ones of each dropped. The merged text is byte for byte what augenrules writes, and
// each of its lines knows the file and line it came from, so a failing rule is reported there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "rules/rules_loader.h"

namespace aurelay::rules {

struct MergedRules {
  std::string name;  // in messages: "rules_dir DIR", or the rules file
  std::string dir;
  std::vector<std::string> files;  // the *.rules files read, in load order (names only)
  std::string text;                // what augenrules would write to audit.rules
  // Per line of `text` (index = line - 1): "FILE:LINE" of the source line, empty for the
  // header and for the empty lines augenrules writes where no -D, -b, -f or -e was found.
  std::vector<std::string> origin;

  std::string origin_of(int line) const;  // "FILE:LINE", or "DIR (merged line N)"
};

// True when `a` comes before `b` in `ls -1v` (GNU filevercmp: digit runs compare as numbers,
// letters before other characters, a file suffix like .rules compared last).
bool version_sort_before(std::string_view a, std::string_view b);

// Reads `dir`. Fails naming the directory or file that cannot be read; a directory without any
// *.rules file is an error too (augenrules: "No rules").
Result<MergedRules> merge_rules_dir(const std::string& dir);

// A rules file whose `-e 2` (locking the configuration until reboot) comes before other lines:
// the same lines with the `-e 2` lines moved to the end, each line knowing its place in the file,
// so that every rule loads before the lock. nullopt when the file needs no reordering (no -e 2,
// or only at the end); fails when the file cannot be read.
Result<std::optional<MergedRules>> lock_last(const std::string& rules_file);

// Loads the merged set with `auditctl -R` (through a memory file: nothing is written to disk);
// each failed line is reported with the file and line it came from.
RulesLoadResult load_merged_rules(const MergedRules& rules, const std::string& auditctl_path);

}  // namespace aurelay::rules
