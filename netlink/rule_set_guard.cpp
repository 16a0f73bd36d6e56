#include "netlink/rule_set_guard.h"

#include <algorithm>

namespace aurelay::netlink {

namespace {

void append_error(std::string& errors, const std::string& error) {
  if (!errors.empty()) errors += "; ";
  errors += error;
}

}  // namespace

Status RuleSetGuard::snapshot() {
  Result<std::vector<std::string>> rules = control_.list_rules();
  if (!rules) return fail(rules.error());
  snapshot_ = std::move(rules).value();
  return {};
}

const std::vector<std::string>& RuleSetGuard::snapshot_rules() const {
  static const std::vector<std::string> no_rules;
  return snapshot_ ? *snapshot_ : no_rules;
}

Result<std::vector<std::string>> RuleSetGuard::added() {
  if (!snapshot_) return fail("no snapshot of the audit rules was taken");
  Result<std::vector<std::string>> now = control_.list_rules();
  if (!now) return fail(now.error());
  std::vector<std::string> rules;
  for (std::string& rule : *now)
    if (std::find(snapshot_->begin(), snapshot_->end(), rule) == snapshot_->end())
      rules.push_back(std::move(rule));
  return rules;
}

Status RuleSetGuard::remember_added() {
  Result<std::vector<std::string>> rules = added();
  if (!rules) return fail(rules.error());
  kept_ = std::move(rules).value();
  return {};
}

Result<std::size_t> RuleSetGuard::restore_missing() {
  if (kept_.empty()) return std::size_t{0};
  Result<std::vector<std::string>> now = control_.list_rules();
  if (!now) return fail(now.error());
  std::size_t restored = 0;
  std::string errors;
  for (const std::string& rule : kept_) {
    if (std::find(now->begin(), now->end(), rule) != now->end()) continue;
    if (Status loaded = control_.add_rule(rule); loaded) {
      ++restored;
    } else {
      if (!errors.empty()) errors += "; ";
      errors += loaded.error();
    }
  }
  if (!errors.empty()) return fail(errors);
  return restored;
}

Status RuleSetGuard::remove_added() {
  Result<std::vector<std::string>> to_delete = added();
  if (!to_delete) return fail(to_delete.error());
  std::string errors;
  std::size_t failed = 0;
  for (const std::string& rule : *to_delete) {
    if (Status deleted = control_.delete_rule(rule); deleted) {
      ++deleted_;
    } else {
      ++failed;
      if (failed <= 3) append_error(errors, deleted.error());
    }
  }
  if (failed == 0) return {};
  return fail(std::to_string(failed) + " of " + std::to_string(to_delete->size()) +
              " added audit rules could not be deleted: " + errors);
}

Status AuditSettingsSnapshot::snapshot() {
  Result<AuditStatus> status = control_.get_status();
  if (!status) return fail(status.error());
  found_ = *status;
  return {};
}

Status AuditSettingsSnapshot::restore() {
  if (!found_) return fail("no snapshot of the audit settings was taken");
  Result<AuditStatus> now = control_.get_status();
  if (!now) return fail(now.error());
  std::string errors;
  auto put_back = [&](const char* name, std::uint32_t current, std::uint32_t wanted,
                      Status (AuditControl::*setter)(std::uint32_t)) {
    if (current == wanted) return;
    if (Status set = (control_.*setter)(wanted); set)
      ++restored_;
    else
      append_error(errors, std::string("restoring ") + name + " " + std::to_string(wanted) + ": " +
                               set.error());
  };
  put_back("failure", now->failure, found_->failure, &AuditControl::set_failure);
  put_back("backlog_limit", now->backlog_limit, found_->backlog_limit,
           &AuditControl::set_backlog_limit);
  put_back("backlog_wait_time", now->backlog_wait_time, found_->backlog_wait_time,
           &AuditControl::set_backlog_wait_time);
  put_back("rate_limit", now->rate_limit, found_->rate_limit, &AuditControl::set_rate_limit);
  // A file's -e 2 locked the configuration until reboot: that is the operator's choice, and
  // nothing can be set back (the settings above failed already and say so).
  if (now->enabled != 2 && found_->enabled <= 1)
    put_back("enabled", now->enabled, found_->enabled, &AuditControl::set_enabled);
  if (errors.empty()) return {};
  return fail(errors);
}

}  // namespace aurelay::netlink
