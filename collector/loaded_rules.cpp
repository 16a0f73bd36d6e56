#include "collector/loaded_rules.h"

#include <spdlog/spdlog.h>

#include "rules/rules_dir.h"
#include "rules/rules_loader.h"

namespace aurelay::collector {

std::string rules_source(const Config& config) {
  return config.rules_dir.empty() ? config.rules_file : "rules_dir " + config.rules_dir;
}

void warn_where_rules_file_won(const Config& config, netlink::AuditControl& control) {
  Result<netlink::AuditStatus> status = control.get_status();
  if (!status) return;
  auto check = [&](std::string_view key, std::int64_t configured, std::uint32_t now) {
    if (!config.is_set(key) || configured < 0 || static_cast<std::int64_t>(now) == configured)
      return;
    spdlog::warn("{} sets {} {} over the configured {}: the rules file wins", rules_source(config),
                 key, now, configured);
  };
  check("backlog_limit", config.backlog_limit, status->backlog_limit);
  check("backlog_wait_time", config.backlog_wait_time, status->backlog_wait_time);
  check("rate_limit", config.rate_limit, status->rate_limit);
  if (config.enabled != KernelEnabled::keep)
    check("enabled", config.enabled == KernelEnabled::enable ? 1 : 0, status->enabled);
}

Status LoadedRules::load(const Config& config, RulesStats& stats) {
  const std::string source = rules_source(config);
  if (Status taken = rule_set_.snapshot(); !taken)
    return fail("before loading " + source + ": " + taken.error());
  if (Status taken = settings_.snapshot(); !taken)
    return fail("before loading " + source + ": audit status: " + taken.error());
  rules::RulesLoadResult result;
  if (!config.rules_dir.empty()) {
    Result<rules::MergedRules> merged = rules::merge_rules_dir(config.rules_dir);
    if (!merged) return merged.failure();
    spdlog::info("rules_dir {}: {} file(s) merged as augenrules does", config.rules_dir,
                 merged->files.size());
    result = rules::load_merged_rules(*merged, config.auditctl);
  } else {
    Result<std::optional<rules::MergedRules>> reordered = rules::lock_last(config.rules_file);
    if (reordered && *reordered) {
      spdlog::info("{}: -e 2 moved after the other lines, so every rule loads before the lock",
                   config.rules_file);
      result = rules::load_merged_rules(**reordered, config.auditctl);
    } else {
      result = rules::load_rules_file(config.rules_file, config.auditctl);  // reports the error
    }
  }
  if (result.auditctl_missing && config.rules_missing_auditctl == RulesMissingAuditctl::skip) {
    spdlog::warn("{} is not installed: no rules loaded (rules_missing_auditctl = skip)",
                 config.auditctl);
    return {};
  }
  loaded_ = true;
  set(stats.rules_failed_lines, static_cast<std::int64_t>(result.line_errors.size()));
  if (!result.ok) {
    for (const rules::RuleLineError& line : result.line_errors)
      spdlog::error("{}", rules::describe_line_error(line));
    std::string error = result.error;
    if (result.stopped_at_line != 0)
      error += " (auditctl stops at a failed line unless a line -i or -c before it says to go on)";
    (void)unload();  // logged there
    return fail(error);
  }
  if (!result.line_errors.empty()) {
    const bool fatal = config.rules_errors == RulesErrors::fatal;
    for (const rules::RuleLineError& line : result.line_errors) {
      if (fatal)
        spdlog::error("{}", rules::describe_line_error(line));
      else
        spdlog::warn("{} (rule not loaded; the -i or -c on line {} of the file says to go on)",
                     rules::describe_line_error(line), result.continue_line);
    }
    if (fatal) {
      (void)unload();  // logged there
      return fail(std::to_string(result.line_errors.size()) + " line(s) of " + source +
                  " failed to load (first: line " + std::to_string(result.line_errors[0].line) +
                  ") and rules_errors = fatal");
    }
  }
  if (Result<std::vector<std::string>> added = rule_set_.added(); added) {
    set(stats.rules_loaded, static_cast<std::int64_t>(added->size()));
    spdlog::info("loaded {} audit rules from {} ({} lines failed)", added->size(), source,
                 result.line_errors.size());
  } else {
    spdlog::warn("loaded the audit rules from {}, but cannot count them: {}", source,
                 added.error());
  }
  if (Status kept = rule_set_.remember_added(); !kept)
    spdlog::warn("rules_repair: cannot list the rules just loaded: {}", kept.error());
  return {};
}

Result<std::size_t> LoadedRules::repair() {
  if (!loaded_) return std::size_t{0};
  return rule_set_.restore_missing();
}

Status LoadedRules::unload() {
  if (!loaded_) return {};
  loaded_ = false;
  bool ok = true;
  const std::size_t deleted_before = rule_set_.deleted();
  if (Status removed = rule_set_.remove_added(); removed) {
    spdlog::info("deleted the {} audit rules loaded from the rules file",
                 rule_set_.deleted() - deleted_before);
  } else {
    spdlog::error("deleting the loaded audit rules: {}", removed.error());
    ok = false;
  }
  if (Status restored = settings_.restore(); !restored) {
    spdlog::error("restoring kernel settings changed by the rules file: {}", restored.error());
    ok = false;
  }
  if (!ok) return fail("the rules file's changes were not all undone");
  return {};
}

void repair_rules(LoadedRules& rules, const std::string& who, RulesStats& stats) {
  Result<std::size_t> restored = rules.repair();
  if (!restored) {
    spdlog::warn("audit rules deleted by {}; re-applying them failed: {}", who, restored.error());
    return;
  }
  if (*restored == 0) return;  // not ours, or loaded again already
  increment(stats.rules_repairs);
  spdlog::warn("audit rules deleted by {}: re-applied {} rule(s) of aurelay's set (rules_repair)",
               who, *restored);
}

}  // namespace aurelay::collector
