#include "netlink/audit_message.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstring>

namespace aurelay::netlink {

namespace {

// Header of `type` and `flags` followed by `payload`; `buffer` holds request_size(payload_size).
std::size_t build_request(char* buffer, std::uint16_t type, std::uint16_t flags,
                          const void* payload, std::size_t payload_size, std::uint32_t seq) {
  std::memset(buffer, 0, request_size(payload_size));
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = type;
  header->nlmsg_flags = flags;
  header->nlmsg_seq = seq;
  if (payload_size > 0) {
    void* body = mnl_nlmsg_put_extra_header(header, payload_size);
    std::memcpy(body, payload, payload_size);
  }
  return header->nlmsg_len;
}

}  // namespace

std::size_t request_size(std::size_t payload_size) {
  return MNL_NLMSG_HDRLEN + MNL_ALIGN(payload_size);
}

std::size_t build_get_status(char* buffer, std::uint32_t seq) {
  return build_request(buffer, AUDIT_GET, NLM_F_REQUEST, nullptr, 0, seq);
}

std::size_t build_set_status(char* buffer, const audit_status& status, std::uint32_t seq) {
  return build_request(buffer, AUDIT_SET, NLM_F_REQUEST | NLM_F_ACK, &status, sizeof(status), seq);
}

std::size_t build_list_rules(char* buffer, std::uint32_t seq) {
  return build_request(buffer, AUDIT_LIST_RULES, NLM_F_REQUEST, nullptr, 0, seq);
}

std::size_t build_delete_rule(char* buffer, std::string_view rule, std::uint32_t seq) {
  return build_request(buffer, AUDIT_DEL_RULE, NLM_F_REQUEST | NLM_F_ACK, rule.data(), rule.size(),
                       seq);
}

std::size_t build_add_rule(char* buffer, std::string_view rule, std::uint32_t seq) {
  return build_request(buffer, AUDIT_ADD_RULE, NLM_F_REQUEST | NLM_F_ACK, rule.data(), rule.size(),
                       seq);
}

bool is_record_type(std::uint32_t type) {
  if (type == AUDIT_REPLACE) return false;
  return type == AUDIT_USER || type == AUDIT_LOGIN || type >= AUDIT_FIRST_USER_MSG;
}

Datagram classify_datagram(const char* data, std::size_t received, bool truncated) {
  Datagram out;
  if (truncated) {
    out.kind = DatagramKind::truncated;
    if (received >= kNetlinkHeaderSize) {
      nlmsghdr header;
      std::memcpy(&header, data, sizeof(header));
      out.type = header.nlmsg_type;
    }
    return out;
  }
  if (received < kNetlinkHeaderSize) return out;  // malformed
  nlmsghdr header;
  std::memcpy(&header, data, sizeof(header));
  out.type = header.nlmsg_type;
  out.seq = header.nlmsg_seq;
  const char* body = data + kNetlinkHeaderSize;
  std::size_t body_size = received - kNetlinkHeaderSize;

  if (out.type == NLMSG_ERROR) {
    out.kind = DatagramKind::ack;
    if (body_size >= sizeof(int)) {
      int error = 0;
      std::memcpy(&error, body, sizeof(error));
      out.error = -error;
    }
    if (body_size >= sizeof(nlmsgerr)) {
      nlmsgerr err;
      std::memcpy(&err, body, sizeof(err));
      out.seq = err.msg.nlmsg_seq;  // the seq of the request being acknowledged
    }
    return out;
  }
  if (out.type == AUDIT_GET) {
    out.kind = DatagramKind::status_reply;
    std::memcpy(&out.status, body, std::min(body_size, sizeof(audit_status)));
    return out;
  }
  if (out.type == AUDIT_REPLACE) {
    out.kind = DatagramKind::replace_probe;
    return out;
  }
  if (!is_record_type(out.type)) {
    out.kind = DatagramKind::other_reply;
    return out;
  }
  // Records: the payload is everything after the header; the kernel may leave a NUL.
  while (body_size > 0 && body[body_size - 1] == '\0') --body_size;
  out.kind = DatagramKind::record;
  out.payload = std::string_view(body, body_size);
  return out;
}

}  // namespace aurelay::netlink
