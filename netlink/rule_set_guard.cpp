#include "netlink/rule_set_guard.h"

#include <algorithm>

namespace aurelay::netlink {

namespace {

void append_error(std::string& errors, const std::string& error) {
  if (!errors.empty()) errors += "; ";
  errors += error;
}

}  // namespace

bool RuleSetGuard::snapshot(std::string& error) {
  std::vector<std::string> rules;
  if (!control_.list_rules(rules, error)) return false;
  snapshot_ = std::move(rules);
  return true;
}

const std::vector<std::string>& RuleSetGuard::snapshot_rules() const {
  static const std::vector<std::string> no_rules;
  return snapshot_ ? *snapshot_ : no_rules;
}

bool RuleSetGuard::added(std::vector<std::string>& rules, std::string& error) {
  if (!snapshot_) {
    error = "no snapshot of the audit rules was taken";
    return false;
  }
  std::vector<std::string> now;
  if (!control_.list_rules(now, error)) return false;
  rules.clear();
  for (std::string& rule : now)
    if (std::find(snapshot_->begin(), snapshot_->end(), rule) == snapshot_->end())
      rules.push_back(std::move(rule));
  return true;
}

bool RuleSetGuard::remove_added(std::string& error) {
  std::vector<std::string> to_delete;
  if (!added(to_delete, error)) return false;
  std::string errors;
  std::size_t failed = 0;
  for (const std::string& rule : to_delete) {
    std::string failure;
    if (control_.delete_rule(rule, failure)) {
      ++deleted_;
    } else {
      ++failed;
      if (failed <= 3) append_error(errors, failure);
    }
  }
  if (failed == 0) return true;
  error = std::to_string(failed) + " of " + std::to_string(to_delete.size()) +
          " added audit rules could not be deleted: " + errors;
  return false;
}

bool AuditSettingsSnapshot::snapshot(std::string& error) {
  AuditStatus status;
  if (!control_.get_status(status, error)) return false;
  found_ = status;
  return true;
}

bool AuditSettingsSnapshot::restore(std::string& error) {
  if (!found_) {
    error = "no snapshot of the audit settings was taken";
    return false;
  }
  AuditStatus now;
  if (!control_.get_status(now, error)) return false;
  std::string errors;
  auto put_back = [&](const char* name, std::uint32_t current, std::uint32_t wanted,
                      bool (AuditControl::*setter)(std::uint32_t, std::string&)) {
    if (current == wanted) return;
    std::string failure;
    if ((control_.*setter)(wanted, failure))
      ++restored_;
    else
      append_error(
          errors, std::string("restoring ") + name + " " + std::to_string(wanted) + ": " + failure);
  };
  put_back("failure", now.failure, found_->failure, &AuditControl::set_failure);
  put_back("backlog_limit", now.backlog_limit, found_->backlog_limit,
           &AuditControl::set_backlog_limit);
  put_back("backlog_wait_time", now.backlog_wait_time, found_->backlog_wait_time,
           &AuditControl::set_backlog_wait_time);
  put_back("rate_limit", now.rate_limit, found_->rate_limit, &AuditControl::set_rate_limit);
  // A file's -e 2 locked the configuration until reboot: that is the operator's choice, and
  // nothing can be set back (the settings above failed already and say so).
  if (now.enabled != 2 && found_->enabled <= 1)
    put_back("enabled", now.enabled, found_->enabled, &AuditControl::set_enabled);
  if (errors.empty()) return true;
  error = errors;
  return false;
}

}  // namespace aurelay::netlink
