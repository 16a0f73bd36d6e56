// Audit rules over the netlink control socket (AUDIT_LIST_RULES, AUDIT_DEL_RULE) and the settings
// a rules file changes (AUDIT_SET), against the real kernel. Rules are added with auditctl and
// keyed aurelay-test-<pid>-*; the kernel guard deletes what is left and restores the settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "kernel_guard.h"
#include "netlink/audit_control.h"
#include "netlink/rule_set_guard.h"

namespace aurelay::testing {
namespace {

using netlink::AuditControl;
using netlink::AuditSettingsSnapshot;
using netlink::AuditStatus;
using netlink::KernelSettingsGuard;
using netlink::RuleSetGuard;

// How many of `rules` carry `key` in their raw bytes (the key is one of the rule's strings).
std::size_t rules_with_key(const std::vector<std::string>& rules, const std::string& key) {
  return static_cast<std::size_t>(std::count_if(rules.begin(), rules.end(), [&](const auto& rule) {
    return rule.find(key) != std::string::npos;
  }));
}

// The loaded rules (a test failure when they cannot be listed).
std::vector<std::string> listed_rules(AuditControl& control) {
  Result<std::vector<std::string>> rules = control.list_rules();
  EXPECT_TRUE(succeeded(rules));
  return rules ? *rules : std::vector<std::string>{};
}

std::string raw_rule_with_key(const std::vector<std::string>& rules, const std::string& key) {
  for (const std::string& rule : rules)
    if (rule.find(key) != std::string::npos) return rule;
  return "";
}

// Puts the failure mode back even when an assertion ends the test early (the kernel guard does
// not restore it).
class FailureModeRestorer {
 public:
  FailureModeRestorer(AuditControl& control, std::uint32_t found)
      : control_(control), found_(found) {}
  ~FailureModeRestorer() {
    Result<AuditStatus> now = control_.get_status();
    if (now && now->failure != found_) {
      EXPECT_TRUE(succeeded(control_.set_failure(found_)));
    }
  }

 private:
  AuditControl& control_;
  std::uint32_t found_;
};

TEST(NetlinkRules, ListSeesAddedRulesAndRemoveAddedDeletesOnlyThoseAfterTheSnapshot) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  AuditControl& control = guard.control();
  std::string error;
  const std::vector<std::string> before = listed_rules(control);

  const std::string first =
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "chdir"}, "nl-first", error);
  ASSERT_FALSE(first.empty()) << error;
  const std::string second =
      guard.add_rule({"-w", "/tmp/aurelay-netlink-rules-watch", "-p", "wa"}, "nl-second", error);
  ASSERT_FALSE(second.empty()) << error;

  const std::vector<std::string> listed = listed_rules(control);
  EXPECT_EQ(listed.size(), before.size() + 2);
  EXPECT_EQ(rules_with_key(listed, first), 1u);
  EXPECT_EQ(rules_with_key(listed, second), 1u);
  for (const std::string& rule : listed) {
    // Each rule is a whole struct audit_rule_data with its buf.
    ASSERT_GE(rule.size(), sizeof(audit_rule_data));
    audit_rule_data header;
    std::memcpy(&header, rule.data(), sizeof(header));
    EXPECT_EQ(rule.size(), sizeof(audit_rule_data) + header.buflen);
  }
  // Listing twice gives the same bytes: raw rules compare.
  const std::vector<std::string> again = listed_rules(control);
  EXPECT_EQ(again, listed);

  RuleSetGuard rule_set(control);
  ASSERT_TRUE(succeeded(rule_set.snapshot()));
  EXPECT_EQ(rule_set.snapshot_rules(), listed);
  const std::string third =
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "fchdir"}, "nl-third", error);
  ASSERT_FALSE(third.empty()) << error;
  const std::vector<std::string> with_third = listed_rules(control);
  const std::string third_raw = raw_rule_with_key(with_third, third);
  ASSERT_FALSE(third_raw.empty());
  Result<std::vector<std::string>> added = rule_set.added();
  ASSERT_TRUE(succeeded(added));
  ASSERT_EQ(added->size(), 1u);
  EXPECT_EQ(added->front(), third_raw);

  ASSERT_TRUE(succeeded(rule_set.remove_added()));
  EXPECT_EQ(rule_set.deleted(), 1u);
  const std::vector<std::string> after = listed_rules(control);
  EXPECT_EQ(after, listed);
  EXPECT_EQ(rules_with_key(after, first), 1u);
  EXPECT_EQ(rules_with_key(after, second), 1u);
  EXPECT_EQ(rules_with_key(after, third), 0u);
  EXPECT_EQ(loaded_rule_keys(guard.key("nl-")).size(), 2u) << "auditctl -l disagrees";

  // Nothing added since: a second call deletes nothing and succeeds.
  ASSERT_TRUE(succeeded(rule_set.remove_added()));
  EXPECT_EQ(rule_set.deleted(), 1u);

  // The third rule is gone: deleting it again is the kernel's ENOENT, said plainly.
  const Status deleted_again = control.delete_rule(third_raw);
  EXPECT_FALSE(deleted_again.ok());
  EXPECT_EQ(control.error_number(), ENOENT);
  EXPECT_NE(deleted_again.error().find("no such rule"), std::string::npos) << deleted_again.error();
  EXPECT_NE(deleted_again.error().find("ENOENT"), std::string::npos) << deleted_again.error();

  // delete_rule takes a listed rule back as it is.
  ASSERT_TRUE(succeeded(control.delete_rule(raw_rule_with_key(after, first))));
  const std::vector<std::string> last = listed_rules(control);
  EXPECT_EQ(rules_with_key(last, first), 0u);
  EXPECT_EQ(rules_with_key(last, second), 1u);
  EXPECT_EQ(last.size(), before.size() + 1);
}

TEST(NetlinkRules, RemoveAddedWithoutASnapshotFailsAndDeletesNothing) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  std::string error;
  const std::string key = guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "chdir"},
                                         "nl-nosnapshot", error);
  ASSERT_FALSE(key.empty()) << error;
  RuleSetGuard rule_set(guard.control());
  const Status removed = rule_set.remove_added();
  EXPECT_FALSE(removed.ok());
  EXPECT_NE(removed.error().find("snapshot"), std::string::npos) << removed.error();
  EXPECT_EQ(rule_set.deleted(), 0u);
  EXPECT_EQ(loaded_rule_keys(key).size(), 1u);
}

TEST(NetlinkRules, DeleteRuleRejectsBytesShorterThanARule) {
  AuditControl control;  // not even opened: refused before the kernel is asked
  const Status deleted = control.delete_rule(std::string(10, '\0'));
  EXPECT_FALSE(deleted.ok());
  EXPECT_EQ(control.error_number(), EINVAL);
  EXPECT_NE(deleted.error().find("too short"), std::string::npos) << deleted.error();
}

TEST(NetlinkRules, SettingsSnapshotPutsBackWhatARulesFileChanged) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  AuditControl& control = guard.control();
  const AuditStatus found = guard.status();
  FailureModeRestorer failure_restorer(control, found.failure);
  AuditSettingsSnapshot settings(control);
  ASSERT_TRUE(succeeded(settings.snapshot()));

  // What `-f 0 -b <other> --backlog_wait_time <other> -r <other> -e <other>` in a rules file
  // does.
  const std::uint32_t other_failure = found.failure == 0 ? 1 : 0;
  const std::uint32_t other_enabled = found.enabled == 0 ? 1 : 0;
  ASSERT_TRUE(succeeded(control.set_failure(other_failure)));
  ASSERT_TRUE(succeeded(control.set_enabled(other_enabled)));
  ASSERT_TRUE(succeeded(control.set_backlog_limit(found.backlog_limit + 123)));
  ASSERT_TRUE(succeeded(control.set_backlog_wait_time(found.backlog_wait_time + 7)));
  ASSERT_TRUE(succeeded(control.set_rate_limit(found.rate_limit + 5)));
  AuditStatus changed = guard.status();
  ASSERT_EQ(changed.failure, other_failure);
  ASSERT_EQ(changed.backlog_limit, found.backlog_limit + 123);
  ASSERT_EQ(changed.enabled, other_enabled);

  ASSERT_TRUE(succeeded(settings.restore()));
  EXPECT_EQ(settings.restored(), 5u);
  AuditStatus after = guard.status();
  EXPECT_EQ(after.failure, found.failure);
  EXPECT_EQ(after.backlog_limit, found.backlog_limit);
  EXPECT_EQ(after.backlog_wait_time, found.backlog_wait_time);
  EXPECT_EQ(after.rate_limit, found.rate_limit);
  EXPECT_EQ(after.enabled, found.enabled);

  // Nothing differs now: nothing is set.
  ASSERT_TRUE(succeeded(settings.restore()));
  EXPECT_EQ(settings.restored(), 5u);
}

TEST(NetlinkRules, FailureModeSetterRefusesPanicAndTheGuardRestoresIt) {
  AuditControl closed;
  const Status refused = closed.set_failure(2);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(closed.error_number(), EINVAL);  // refused before the (unopened) socket is used
  EXPECT_NE(refused.error().find("panic"), std::string::npos) << refused.error();

  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  AuditControl& control = guard.control();
  const AuditStatus found = guard.status();
  FailureModeRestorer failure_restorer(control, found.failure);
  {
    KernelSettingsGuard settings(control);
    EXPECT_FALSE(settings.set_failure(2).ok());
    EXPECT_FALSE(settings.has_changes());
    const std::uint32_t other = found.failure == 0 ? 1 : 0;
    ASSERT_TRUE(succeeded(settings.set_failure(other)));
    EXPECT_TRUE(settings.has_changes());
    EXPECT_EQ(guard.status().failure, other);
    ASSERT_TRUE(succeeded(settings.restore()));
    EXPECT_FALSE(settings.has_changes());
  }
  EXPECT_EQ(guard.status().failure, found.failure);
}

}  // namespace
}  // namespace aurelay::testing
