// A locked audit configuration (auditctl -e 2), with the kernel's replies simulated: locking a
// real kernel holds until reboot, so no test ever does it. The replies are built byte for byte as
// the kernel sends them (an AUDIT_GET reply with enabled 2, an NLMSG_ERROR ack with -EPERM) and go
// through the same parsing the control socket uses.
#include "collector/kernel_lock.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "netlink/audit_message.h"
#include "test_support.h"

namespace aurelay::collector {
namespace {

using aurelay::testing::CapturedLog;
using aurelay::testing::count_occurrences;

std::vector<char> kernel_datagram(std::uint16_t type, const void* payload, std::size_t size) {
  std::vector<char> bytes(NLMSG_SPACE(size), 0);
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(size));
  header.nlmsg_type = type;
  header.nlmsg_seq = 7;
  std::memcpy(bytes.data(), &header, sizeof(header));
  std::memcpy(bytes.data() + NLMSG_HDRLEN, payload, size);
  return bytes;
}

// What AUDIT_GET answers.
netlink::AuditStatus status_reply(std::uint32_t enabled) {
  audit_status raw{};
  raw.enabled = enabled;
  raw.backlog_limit = 8192;
  const std::vector<char> bytes = kernel_datagram(AUDIT_GET, &raw, sizeof(raw));
  const netlink::Datagram datagram = netlink::classify_datagram(bytes.data(), bytes.size(), false);
  EXPECT_EQ(datagram.kind, netlink::DatagramKind::status_reply);
  return netlink::to_audit_status(datagram.status);
}

// What an AUDIT_SET or AUDIT_ADD_RULE gets back from a locked kernel.
int refusal_ack() {
  nlmsgerr error{};
  error.error = -EPERM;
  error.msg.nlmsg_type = AUDIT_SET;
  error.msg.nlmsg_seq = 7;
  const std::vector<char> bytes = kernel_datagram(NLMSG_ERROR, &error, sizeof(error));
  const netlink::Datagram datagram = netlink::classify_datagram(bytes.data(), bytes.size(), false);
  EXPECT_EQ(datagram.kind, netlink::DatagramKind::ack);
  return datagram.error;
}

TEST(KernelLock, ALockedStatusIsFoundOnceAndSaidOnce) {
  CapturedLog log;
  KernelLock lock;
  EXPECT_FALSE(lock.update(status_reply(1), "at start"));
  EXPECT_TRUE(lock.update(status_reply(2), "at start"));
  EXPECT_TRUE(lock.update(status_reply(2), "after loading the rules"));
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(count_occurrences(log.text(), "the audit configuration is locked"), 1u) << log.text();
  EXPECT_NE(log.text().find("found at start"), std::string::npos) << log.text();
}

TEST(KernelLock, ARefusalWithEpermIsAWarningAndOtherErrorsAreNot) {
  CapturedLog log;
  KernelLock lock;
  EXPECT_EQ(refusal_ack(), EPERM);
  EXPECT_TRUE(lock.tolerate_refusal(refusal_ack(), "enabled: setting enabled: EPERM"));
  EXPECT_NE(log.text().find("the kernel refused it (EPERM)"), std::string::npos) << log.text();
  EXPECT_FALSE(lock.tolerate_refusal(EINVAL, "backlog_limit"));
  EXPECT_FALSE(lock.tolerate_refusal(0, "rate_limit"));
}

TEST(KernelLock, AtExitTheRulesAndSettingsStayOnlyWhenLocked) {
  CapturedLog log;
  KernelLock unlocked;
  unlocked.update(status_reply(1), "at exit");
  EXPECT_FALSE(unlocked.keep_at_exit());

  KernelLock locked_by_the_rules;
  locked_by_the_rules.update(status_reply(1), "at start");
  locked_by_the_rules.update(status_reply(2), "after loading the rules");
  EXPECT_TRUE(locked_by_the_rules.keep_at_exit());  // the rules step
  EXPECT_TRUE(locked_by_the_rules.keep_at_exit());  // the settings step
  EXPECT_EQ(count_occurrences(log.text(), "leaving the audit rules and kernel settings"), 1u)
      << log.text();
}

}  // namespace
}  // namespace aurelay::collector
