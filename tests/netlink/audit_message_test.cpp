#include "netlink/audit_message.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>

#include <cstring>
#include <string>
#include <vector>

namespace aurelay::netlink {
namespace {

// A datagram as the kernel sends it: header + payload. `nlmsg_len_value` lets a test write the
// unicast quirk (payload length only) or the correct multicast length.
std::vector<char> make_datagram(std::uint16_t type, const std::string& payload,
                                std::uint32_t nlmsg_len_value, std::uint32_t seq = 0) {
  std::vector<char> bytes(kNetlinkHeaderSize + payload.size());
  nlmsghdr header{};
  header.nlmsg_len = nlmsg_len_value;
  header.nlmsg_type = type;
  header.nlmsg_seq = seq;
  std::memcpy(bytes.data(), &header, sizeof(header));
  std::memcpy(bytes.data() + kNetlinkHeaderSize, payload.data(), payload.size());
  return bytes;
}

TEST(BuildRequest, GetStatusIsABareRequestWithTheSeq) {
  char buffer[kRequestBufferSize];
  std::size_t length = build_get_status(buffer, 42);
  ASSERT_EQ(length, kNetlinkHeaderSize);
  nlmsghdr header;
  std::memcpy(&header, buffer, sizeof(header));
  EXPECT_EQ(header.nlmsg_len, kNetlinkHeaderSize);
  EXPECT_EQ(header.nlmsg_type, AUDIT_GET);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST);
  EXPECT_EQ(header.nlmsg_seq, 42u);
  EXPECT_EQ(header.nlmsg_pid, 0u);
}

TEST(BuildRequest, SetStatusCarriesTheStatusAndAsksForAnAck) {
  audit_status status{};
  status.mask = AUDIT_STATUS_PID | AUDIT_STATUS_BACKLOG_LIMIT;
  status.pid = 1234;
  status.backlog_limit = 65536;
  char buffer[kRequestBufferSize];
  std::size_t length = build_set_status(buffer, status, 7);
  ASSERT_EQ(length, kNetlinkHeaderSize + sizeof(audit_status));
  nlmsghdr header;
  std::memcpy(&header, buffer, sizeof(header));
  EXPECT_EQ(header.nlmsg_len, length);
  EXPECT_EQ(header.nlmsg_type, AUDIT_SET);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(header.nlmsg_seq, 7u);
  audit_status sent;
  std::memcpy(&sent, buffer + kNetlinkHeaderSize, sizeof(sent));
  EXPECT_EQ(sent.mask, status.mask);
  EXPECT_EQ(sent.pid, 1234u);
  EXPECT_EQ(sent.backlog_limit, 65536u);
  EXPECT_EQ(sent.enabled, 0u);
}

TEST(RecordTypes, RecordsAreUserLoginAndFrom1100ExceptReplace) {
  EXPECT_TRUE(is_record_type(AUDIT_USER));     // 1005
  EXPECT_TRUE(is_record_type(AUDIT_LOGIN));    // 1006
  EXPECT_TRUE(is_record_type(1100));           // first user message
  EXPECT_TRUE(is_record_type(AUDIT_SYSCALL));  // 1300
  EXPECT_TRUE(is_record_type(AUDIT_EOE));      // 1320
  EXPECT_TRUE(is_record_type(AUDIT_KERNEL));   // 2000
  EXPECT_TRUE(is_record_type(2100));
  EXPECT_FALSE(is_record_type(AUDIT_REPLACE));     // 1329 probe
  EXPECT_FALSE(is_record_type(AUDIT_GET));         // 1000
  EXPECT_FALSE(is_record_type(AUDIT_SET));         // 1001
  EXPECT_FALSE(is_record_type(AUDIT_LIST_RULES));  // 1013
  EXPECT_FALSE(is_record_type(NLMSG_ERROR));
  EXPECT_FALSE(is_record_type(NLMSG_DONE));
}

TEST(ClassifyDatagram, UnicastQuirkPayloadLengthComesFromBytesReceived) {
  const std::string payload =
      "audit(1700000000.123:456): arch=c000003e syscall=59 success=yes exit=0";
  // Unicast: the kernel writes the payload length (16 short) into nlmsg_len.
  auto bytes = make_datagram(AUDIT_SYSCALL, payload, static_cast<std::uint32_t>(payload.size()));
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::record);
  EXPECT_EQ(datagram.type, static_cast<std::uint32_t>(AUDIT_SYSCALL));
  EXPECT_EQ(datagram.payload, payload);
}

TEST(ClassifyDatagram, MulticastCorrectLengthGivesTheSamePayload) {
  const std::string payload = "audit(1700000000.123:456): argc=2 a0=\"echo\" a1=\"hi\"";
  auto bytes = make_datagram(AUDIT_EXECVE, payload,
                             static_cast<std::uint32_t>(kNetlinkHeaderSize + payload.size()));
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::record);
  EXPECT_EQ(datagram.payload, payload);
}

TEST(ClassifyDatagram, BogusNlmsgLenIsIgnored) {
  const std::string payload = "audit(1.002:3): x=1";
  auto bytes = make_datagram(AUDIT_CWD, payload, 5);  // nonsense: must not shorten the payload
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::record);
  EXPECT_EQ(datagram.payload, payload);
}

TEST(ClassifyDatagram, TrailingNulsAreDropped) {
  std::string payload = "audit(1.002:3): cwd=\"/\"";
  auto bytes = make_datagram(AUDIT_CWD, payload + std::string(2, '\0'), 0);
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::record);
  EXPECT_EQ(datagram.payload, payload);
}

TEST(ClassifyDatagram, EmptyRecordPayloadIsARecordWithNoText) {
  auto bytes = make_datagram(AUDIT_EOE, "", 0);
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::record);
  EXPECT_TRUE(datagram.payload.empty());
}

TEST(ClassifyDatagram, MaximumSizeRecordIsKeptWhole) {
  std::string payload = "audit(1.002:3): a0=";
  payload.resize(kMaxAuditPayload, 'A');
  auto bytes = make_datagram(AUDIT_EXECVE, payload, static_cast<std::uint32_t>(payload.size()));
  ASSERT_EQ(bytes.size(), kMaxAuditDatagram);
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::record);
  EXPECT_EQ(datagram.payload.size(), kMaxAuditPayload);
}

TEST(ClassifyDatagram, TruncatedIsReportedWithItsType) {
  auto bytes = make_datagram(AUDIT_EXECVE, "audit(1.002:3): a0=", 0);
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), true);
  EXPECT_EQ(datagram.kind, DatagramKind::truncated);
  EXPECT_EQ(datagram.type, static_cast<std::uint32_t>(AUDIT_EXECVE));
  EXPECT_TRUE(datagram.payload.empty());
}

TEST(ClassifyDatagram, ShorterThanAHeaderIsMalformed) {
  char bytes[8] = {};
  EXPECT_EQ(classify_datagram(bytes, sizeof(bytes), false).kind, DatagramKind::malformed);
  EXPECT_EQ(classify_datagram(bytes, 0, false).kind, DatagramKind::malformed);
}

TEST(ClassifyDatagram, ReplaceProbeIsNotARecord) {
  std::uint32_t pid = 4321;
  std::string body(reinterpret_cast<const char*>(&pid), sizeof(pid));
  auto bytes = make_datagram(AUDIT_REPLACE, body, 0);
  EXPECT_EQ(classify_datagram(bytes.data(), bytes.size(), false).kind, DatagramKind::replace_probe);
}

TEST(ClassifyDatagram, AckCarriesErrnoAndTheRequestSeq) {
  nlmsgerr err{};
  err.error = -EEXIST;
  err.msg.nlmsg_type = AUDIT_SET;
  err.msg.nlmsg_seq = 99;
  std::string body(reinterpret_cast<const char*>(&err), sizeof(err));
  auto bytes = make_datagram(NLMSG_ERROR, body,
                             static_cast<std::uint32_t>(kNetlinkHeaderSize + sizeof(err)), 99);
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::ack);
  EXPECT_EQ(datagram.error, EEXIST);
  EXPECT_EQ(datagram.seq, 99u);

  err.error = 0;
  body.assign(reinterpret_cast<const char*>(&err), sizeof(err));
  bytes = make_datagram(NLMSG_ERROR, body, 0, 99);
  datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::ack);
  EXPECT_EQ(datagram.error, 0);
}

TEST(ClassifyDatagram, StatusReplyFromAnOlderKernelIsZeroFilled) {
  audit_status status{};
  status.enabled = 1;
  status.pid = 77;
  status.lost = 5;
  status.backlog_wait_time = 123;  // past the old size: must not be read
  // Kernels before backlog_wait_time sent the struct up to `version` (32 bytes).
  std::string body(reinterpret_cast<const char*>(&status), 32);
  auto bytes = make_datagram(AUDIT_GET, body, 0);
  Datagram datagram = classify_datagram(bytes.data(), bytes.size(), false);
  ASSERT_EQ(datagram.kind, DatagramKind::status_reply);
  EXPECT_EQ(datagram.status.enabled, 1u);
  EXPECT_EQ(datagram.status.pid, 77u);
  EXPECT_EQ(datagram.status.lost, 5u);
  EXPECT_EQ(datagram.status.backlog_wait_time, 0u);
}

TEST(ClassifyDatagram, OtherControlMessagesAreReplies) {
  auto bytes = make_datagram(NLMSG_DONE, std::string(4, '\0'), 0);
  EXPECT_EQ(classify_datagram(bytes.data(), bytes.size(), false).kind, DatagramKind::other_reply);
  bytes = make_datagram(AUDIT_LIST_RULES, std::string(8, '\0'), 0);
  EXPECT_EQ(classify_datagram(bytes.data(), bytes.size(), false).kind, DatagramKind::other_reply);
}

}  // namespace
}  // namespace aurelay::netlink
