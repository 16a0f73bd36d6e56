// The kernel's audit configuration lock (auditctl -e 2, which STIG asks for at the end of
// rules.d). Until reboot the kernel refuses every change of rules and settings with EPERM;
// registering as the audit daemon still works. So a locked kernel changes what the daemon does:
//  - at start, the configured kernel settings and the rules are left as the lock holds them (the
//    rules are in the kernel already) and aurelay collects: one warning says so;
//  - a setting the kernel refuses with EPERM is a warning, not a failed start;
//  - at exit the rules and settings stay (the kernel requires it): said once, not an error.
// Fed the kernel's AUDIT_GET replies and errnos; never locks anything itself.
#pragma once

#include <string>
#include <string_view>

#include "netlink/audit_control.h"

namespace aurelay::collector {

class KernelLock {
 public:
  // Takes the kernel's status as of `when` ("at start", "after the rules"); logs one warning the
  // first time it finds the configuration locked. Returns locked().
  bool update(const netlink::AuditStatus& status, std::string_view when);
  bool locked() const { return locked_; }

  // A change the kernel refused with `error_number`: EPERM from a locked kernel (or one found
  // locked by this refusal) is a warning and the daemon goes on (true); anything else is not
  // tolerated (false, nothing logged).
  bool tolerate_refusal(int error_number, const std::string& what);

  // At exit, before undoing rules and settings: true when they must stay (locked), said once.
  bool keep_at_exit();

 private:
  bool locked_ = false;
  bool said_at_exit_ = false;
};

}  // namespace aurelay::collector
