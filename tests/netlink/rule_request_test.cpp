// Building AUDIT_LIST_RULES and AUDIT_DEL_RULE requests (no socket).
#include <gtest/gtest.h>
#include <linux/netlink.h>

#include <cstring>
#include <string>
#include <vector>

#include "netlink/audit_message.h"

namespace aurelay::netlink {
namespace {

TEST(BuildRuleRequest, ListRulesIsABareDumpRequestWithoutAck) {
  char buffer[kRequestBufferSize];
  std::size_t length = build_list_rules(buffer, 9);
  ASSERT_EQ(length, kNetlinkHeaderSize);
  nlmsghdr header;
  std::memcpy(&header, buffer, sizeof(header));
  EXPECT_EQ(header.nlmsg_len, kNetlinkHeaderSize);
  EXPECT_EQ(header.nlmsg_type, AUDIT_LIST_RULES);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST);
  EXPECT_EQ(header.nlmsg_seq, 9u);
}

TEST(BuildRuleRequest, DeleteRuleCarriesTheRuleBytesUnchangedAndAsksForAnAck) {
  // A rule as the kernel lists it: struct audit_rule_data, then buf (here a 5-byte key, so the
  // message needs padding to 4 bytes).
  audit_rule_data data{};
  data.flags = AUDIT_FILTER_EXIT;
  data.action = AUDIT_ALWAYS;
  data.field_count = 1;
  data.fields[0] = AUDIT_FILTERKEY;
  data.fieldflags[0] = AUDIT_EQUAL;
  data.values[0] = 5;
  data.buflen = 5;
  std::string rule(reinterpret_cast<const char*>(&data), sizeof(data));
  rule += "mykey";
  ASSERT_EQ(request_size(rule.size()), kNetlinkHeaderSize + ((rule.size() + 3) & ~std::size_t{3}));

  std::vector<char> buffer(request_size(rule.size()), '\x55');
  std::size_t length = build_delete_rule(buffer.data(), rule, 31);
  ASSERT_EQ(length, request_size(rule.size()));
  nlmsghdr header;
  std::memcpy(&header, buffer.data(), sizeof(header));
  EXPECT_EQ(header.nlmsg_len, length);
  EXPECT_EQ(header.nlmsg_type, AUDIT_DEL_RULE);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(header.nlmsg_seq, 31u);
  EXPECT_EQ(std::string(buffer.data() + kNetlinkHeaderSize, rule.size()), rule);
  // The padding is zeroed, not left as whatever the buffer held.
  for (std::size_t i = kNetlinkHeaderSize + rule.size(); i < length; ++i)
    EXPECT_EQ(buffer[i], '\0') << i;
}

}  // namespace
}  // namespace aurelay::netlink
