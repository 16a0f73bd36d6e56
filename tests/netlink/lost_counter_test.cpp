#include <gtest/gtest.h>

#include <cerrno>

#include "netlink/audit_control.h"
#include "netlink/audit_socket.h"

namespace aurelay::netlink {
namespace {

TEST(LostCounter, FirstReadingIsTheBaseline) {
  LostCounter counter;
  EXPECT_FALSE(counter.has_baseline());
  EXPECT_EQ(counter.update(500), 0u);
  EXPECT_TRUE(counter.has_baseline());
  EXPECT_EQ(counter.total(), 0u);
  EXPECT_EQ(counter.last_reading(), 500u);
}

TEST(LostCounter, AddsIncreases) {
  LostCounter counter;
  counter.update(10);
  EXPECT_EQ(counter.update(10), 0u);
  EXPECT_EQ(counter.update(15), 5u);
  EXPECT_EQ(counter.update(115), 100u);
  EXPECT_EQ(counter.total(), 105u);
  EXPECT_EQ(counter.resets(), 0u);
}

TEST(LostCounter, ALowerReadingIsAResetCountedFromZero) {
  LostCounter counter;
  counter.update(1000);
  counter.update(1010);              // +10
  EXPECT_EQ(counter.update(3), 3u);  // reset to 0, then 3 new drops
  EXPECT_EQ(counter.resets(), 1u);
  EXPECT_EQ(counter.update(8), 5u);
  EXPECT_EQ(counter.total(), 18u);
  EXPECT_EQ(counter.update(0), 0u);  // reset with no new drops
  EXPECT_EQ(counter.resets(), 2u);
  EXPECT_EQ(counter.total(), 18u);
}

TEST(LostCounter, TotalIsMonotonicAcrossWrap) {
  LostCounter counter;
  counter.update(0xFFFFFFF0u);
  EXPECT_EQ(counter.update(0xFFFFFFFFu), 15u);
  EXPECT_EQ(counter.update(4), 4u);  // wrapped: counted from zero
  EXPECT_EQ(counter.total(), 19u);
}

TEST(AuditStatusConversion, CopiesEveryField) {
  audit_status raw{};
  raw.enabled = 1;
  raw.failure = 1;
  raw.pid = 2;
  raw.rate_limit = 3;
  raw.backlog_limit = 4;
  raw.lost = 5;
  raw.backlog = 6;
  raw.backlog_wait_time = 7;
  AuditStatus status = to_audit_status(raw);
  EXPECT_EQ(status.enabled, 1u);
  EXPECT_EQ(status.failure, 1u);
  EXPECT_EQ(status.pid, 2u);
  EXPECT_EQ(status.rate_limit, 3u);
  EXPECT_EQ(status.backlog_limit, 4u);
  EXPECT_EQ(status.lost, 5u);
  EXPECT_EQ(status.backlog, 6u);
  EXPECT_EQ(status.backlog_wait_time, 7u);
}

TEST(AuditControl, RefusesToLockTheConfigurationWithoutAskingTheKernel) {
  AuditControl control;  // not even open: the refusal comes first
  const Status refused = control.set_enabled(2);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find('2'), std::string::npos);
}

TEST(AuditDataSocket, ReceiveOnAClosedSocketIsAnErrorNotACrash) {
  AuditDataSocket socket;
  correlate::RecordBatch batch;
  ReceiveResult result = socket.receive_batch(batch, 16);
  EXPECT_EQ(result.error, EBADF);
  EXPECT_EQ(result.records, 0u);
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(socket.release().ok());  // never registered: nothing to give back
}

}  // namespace
}  // namespace aurelay::netlink
