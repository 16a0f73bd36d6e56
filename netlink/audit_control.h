// The audit control socket (AUDIT_GET / AUDIT_SET), separate from the data socket, owned by the
// main thread: kernel status polling, settings the config asks for, and restoring them on exit.
#pragma once

#include <linux/audit.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct mnl_socket;

namespace aurelay::netlink {

// The kernel's audit status (AUDIT_GET). backlog_wait_time is in the kernel's unit (jiffies on
// the kernels we know; `auditctl -s` prints the same number).
struct AuditStatus {
  std::uint32_t enabled = 0;  // 0 off, 1 on, 2 locked
  std::uint32_t failure = 0;
  std::uint32_t pid = 0;  // the registered audit daemon, 0 when none
  std::uint32_t rate_limit = 0;
  std::uint32_t backlog_limit = 0;
  std::uint32_t lost = 0;
  std::uint32_t backlog = 0;
  std::uint32_t backlog_wait_time = 0;
};

// Converts a kernel reply; exposed for tests.
AuditStatus to_audit_status(const audit_status& raw);

class AuditControl {
 public:
  AuditControl() = default;
  ~AuditControl();
  AuditControl(const AuditControl&) = delete;
  AuditControl& operator=(const AuditControl&) = delete;

  // Opens and binds a NETLINK_AUDIT socket. On failure the message says why and error_number()
  // holds the errno (EPERM / EPROTONOSUPPORT / ECONNREFUSED where the kernel refuses audit).
  Status open();
  void close();
  bool is_open() const { return socket_ != nullptr; }
  int error_number() const { return error_number_; }

  Result<AuditStatus> get_status();

  // Each setter sends AUDIT_SET with NLM_F_ACK and checks the kernel's answer.
  // set_enabled refuses 2 (locking the configuration) without asking the kernel.
  Status set_enabled(std::uint32_t enabled);
  Status set_backlog_limit(std::uint32_t limit);
  Status set_backlog_wait_time(std::uint32_t wait_time);
  Status set_rate_limit(std::uint32_t rate);
  // The failure mode (0 silent, 1 printk, 2 panic); refuses 2 without asking the kernel.
  Status set_failure(std::uint32_t failure);
  // Gives the audit daemon pid back (AUDIT_SET pid 0), which the kernel only allows the process
  // holding it. Used by AuditDataSocket::release().
  Status clear_pid();

  // The loaded rules (AUDIT_LIST_RULES dump), in the kernel's order, each as the raw bytes of its
  // struct audit_rule_data with its buf, exactly as received: what delete_rule() takes back, and
  // equal bytes mean the same rule.
  Result<std::vector<std::string>> list_rules();
  // Deletes one rule (AUDIT_DEL_RULE) given as list_rules() returned it, checking the ack. When
  // no such rule is loaded the kernel answers ENOENT: error_number() holds it, the message says so.
  Status delete_rule(std::string_view raw_rule);
  // Loads a rule again (AUDIT_ADD_RULE) given as list_rules() returned it; it is appended to its
  // list. A rule loaded already is EEXIST.
  Status add_rule(std::string_view raw_rule);

  // Timeout for one request's answer.
  void set_reply_timeout_ms(int timeout_ms) { reply_timeout_ms_ = timeout_ms; }

 private:
  Status set_status(const audit_status& status);
  Status send_rule(std::string_view raw_rule, bool add);
  // Sends a request and waits for its answer: the status reply when `reply` is set, every
  // AUDIT_LIST_RULES message up to NLMSG_DONE when `rules` is set, the ack otherwise.
  Status transact(const char* request, std::size_t length, std::uint32_t seq, audit_status* reply,
                  std::vector<std::string>* rules);

  mnl_socket* socket_ = nullptr;
  std::uint32_t portid_ = 0;
  std::uint32_t seq_ = 0;
  int error_number_ = 0;
  int reply_timeout_ms_ = 2000;
};

// Remembers the values it changes through an AuditControl and puts them back on restore() or
// destruction: each field it set goes back to the value found before the first change (so
// `enabled` ends as found). Fields it never set are left alone. The control must outlive it.
class KernelSettingsGuard {
 public:
  explicit KernelSettingsGuard(AuditControl& control) : control_(control) {}
  ~KernelSettingsGuard();
  KernelSettingsGuard(const KernelSettingsGuard&) = delete;
  KernelSettingsGuard& operator=(const KernelSettingsGuard&) = delete;

  Status set_enabled(std::uint32_t enabled);
  Status set_backlog_limit(std::uint32_t limit);
  Status set_backlog_wait_time(std::uint32_t wait_time);
  Status set_rate_limit(std::uint32_t rate);
  Status set_failure(std::uint32_t failure);

  // Restores every changed field; fails (naming every field that could not be restored) if any
  // could not be. Idempotent: a restored field is forgotten.
  Status restore();
  bool has_changes() const;
  // Forgets the changes without restoring them (a locked kernel refuses to).
  void forget();

 private:
  Status remember_original();

  AuditControl& control_;
  std::optional<AuditStatus> found_;
  bool changed_enabled_ = false;
  bool changed_backlog_limit_ = false;
  bool changed_backlog_wait_time_ = false;
  bool changed_rate_limit_ = false;
  bool changed_failure_ = false;
};

// Turns successive readings of the kernel's `lost` into a monotonic total of drops since the
// first reading. The kernel's counter can be reset (auditctl --reset-lost) or wrap: a reading
// lower than the previous one counts from zero.
class LostCounter {
 public:
  // Adds a reading; returns how many drops it adds to total(). The first reading is the baseline
  // and adds nothing (drops before we started are not ours).
  std::uint64_t update(std::uint32_t reading);
  std::uint64_t total() const { return total_; }
  bool has_baseline() const { return has_last_; }
  std::uint32_t last_reading() const { return last_; }
  std::uint64_t resets() const { return resets_; }

 private:
  std::uint64_t total_ = 0;
  std::uint64_t resets_ = 0;
  std::uint32_t last_ = 0;
  bool has_last_ = false;
};

}  // namespace aurelay::netlink
