#include "collector/kernel_lock.h"

#include <spdlog/spdlog.h>

#include <cerrno>

namespace aurelay::collector {

namespace {
constexpr std::uint32_t kLocked = 2;  // AUDIT_STATUS enabled: auditctl -e 2
}  // namespace

bool KernelLock::update(const netlink::AuditStatus& status, std::string_view when) {
  if (status.enabled != kLocked || locked_) return locked_;
  locked_ = true;
  spdlog::warn(
      "the audit configuration is locked (auditctl -e 2, found {}): rules and kernel settings "
      "cannot change until reboot; collecting with those in force, and leaving them at exit",
      when);
  return true;
}

bool KernelLock::tolerate_refusal(int error_number, const std::string& what) {
  if (error_number != EPERM) return false;
  spdlog::warn("{}: the kernel refused it (EPERM{}); going on with the kernel's value", what,
               locked_ ? ": the configuration is locked" : "");
  return true;
}

bool KernelLock::keep_at_exit() {
  if (!locked_) return false;
  if (!said_at_exit_) {
    said_at_exit_ = true;
    spdlog::info(
        "leaving the audit rules and kernel settings as they are: the configuration is locked "
        "(-e 2) until reboot");
  }
  return true;
}

}  // namespace aurelay::collector
