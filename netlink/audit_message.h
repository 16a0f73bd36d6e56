// Audit netlink messages without a socket: building requests (libmnl) and classifying the
// datagrams a data socket receives. Pure functions, testable with synthetic bytes.
#pragma once

#include <linux/audit.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aurelay::netlink {

// Netlink header length (NLMSG_HDRLEN) and the largest datagram an audit socket receives:
// header + MAX_AUDIT_MESSAGE_LENGTH. Receive buffers must hold at least this much.
inline constexpr std::size_t kNetlinkHeaderSize = 16;
inline constexpr std::size_t kMaxAuditPayload = 8970;
inline constexpr std::size_t kMaxAuditDatagram = kNetlinkHeaderSize + kMaxAuditPayload;

// Size of a buffer that holds any request or reply of the control protocol.
inline constexpr std::size_t kRequestBufferSize = 256;

// AUDIT_GET request. Returns the message length written into `buffer` (kRequestBufferSize).
std::size_t build_get_status(char* buffer, std::uint32_t seq);

// AUDIT_SET request carrying `status` (only the fields named in status.mask are applied by the
// kernel), with NLM_F_ACK. Returns the message length.
std::size_t build_set_status(char* buffer, const audit_status& status, std::uint32_t seq);

// Bytes a request with a payload of `payload_size` bytes needs: header + aligned payload.
std::size_t request_size(std::size_t payload_size);

// AUDIT_LIST_RULES request: a dump, answered with one AUDIT_LIST_RULES message per loaded rule
// (each payload a struct audit_rule_data followed by its buf) and then NLMSG_DONE. Sent without
// NLM_F_ACK, so on success NLMSG_DONE is the last message (an error still comes as NLMSG_ERROR).
// Returns the message length written into `buffer` (kRequestBufferSize).
std::size_t build_list_rules(char* buffer, std::uint32_t seq);

// AUDIT_DEL_RULE request carrying `rule` (a struct audit_rule_data with its buf, exactly as a
// list reply carried it), with NLM_F_ACK. `buffer` holds request_size(rule.size()) bytes.
// Returns the message length.
std::size_t build_delete_rule(char* buffer, std::string_view rule, std::uint32_t seq);
// AUDIT_ADD_RULE with the same raw rule: loads it again (appended to its list).
std::size_t build_add_rule(char* buffer, std::string_view rule, std::uint32_t seq);

// Netlink types an audit socket sees that are not records: replies to requests.
// A record is AUDIT_USER (1005), AUDIT_LOGIN (1006) or any type from 1100 up, except
// AUDIT_REPLACE (1329) which is a kernel probe of the registered daemon.
bool is_record_type(std::uint32_t type);

enum class DatagramKind : std::uint8_t {
  record,         // an audit record: type and payload set
  replace_probe,  // AUDIT_REPLACE: the kernel testing the registered daemon; ignore
  ack,            // NLMSG_ERROR: error (0 = success) and seq set
  status_reply,   // AUDIT_GET reply: status set (fields past the received length are zero)
  other_reply,    // any other non-record message (NLMSG_DONE, rule lists, ...)
  truncated,      // the datagram was larger than the buffer (MSG_TRUNC)
  malformed,      // shorter than a netlink header
};

struct Datagram {
  DatagramKind kind = DatagramKind::malformed;
  std::uint32_t type = 0;
  std::uint32_t seq = 0;
  int error = 0;             // ack: the (positive) errno, 0 for success
  std::string_view payload;  // record: the text after the header, trailing NULs removed
  audit_status status{};     // status_reply
};

// Classifies one received datagram of `received` bytes. `truncated` is true when the kernel
// reported MSG_TRUNC. The payload length comes from `received`, never from nlmsg_len: on the
// unicast socket the kernel writes the payload length there (16 bytes short), on the multicast
// socket the full length. One record per datagram.
Datagram classify_datagram(const char* data, std::size_t received, bool truncated);

}  // namespace aurelay::netlink
