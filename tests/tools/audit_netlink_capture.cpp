// Records what a netlink audit reader receives, for the test fixtures: registers as the audit
// daemon (AUDIT_SET pid), writes every record it receives as one line
//   type=<NAME> msg=<payload>
// (the kernel's payload as sent, `audit(sec.msec:serial): fields`; EOE included) to standard
// output, and on SIGTERM/SIGINT gives the audit pid back and exits. Record type names come from
// libaudit; a type it does not know is written UNKNOWN[<number>], as auditd does.
// Used by tests/fixtures/capture_netlink.sh, which waits until `auditctl -s` shows this pid.
#include <libaudit.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

bool send_set_pid(int fd, std::uint32_t pid) {
  struct {
    nlmsghdr header;
    audit_status status;
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = AUDIT_SET;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = pid == 0 ? 2 : 1;
  request.status.mask = AUDIT_STATUS_PID;
  request.status.pid = pid;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return sendto(fd, &request, sizeof(request), 0, reinterpret_cast<sockaddr*>(&kernel),
                sizeof(kernel)) == static_cast<ssize_t>(sizeof(request));
}

bool is_record(std::uint16_t type) {
  return type != AUDIT_REPLACE &&
         (type == AUDIT_USER || type == AUDIT_LOGIN || type >= AUDIT_FIRST_USER_MSG);
}

std::string type_name(std::uint16_t type) {
  const char* name = audit_msg_type_to_name(type);
  return name ? std::string(name) : "UNKNOWN[" + std::to_string(type) + "]";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 1) {
    std::fprintf(stderr, "usage: %s >capture.log  (as root; stop with SIGTERM)\n", argv[0]);
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) {
    std::perror("socket");
    return 1;
  }
  int buffer_bytes = 8 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof(buffer_bytes)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    std::perror("bind");
    return 1;
  }
  if (!send_set_pid(fd, static_cast<std::uint32_t>(getpid()))) {
    std::perror("AUDIT_SET pid");
    return 1;
  }

  std::vector<char> buffer(std::size_t{64} * 1024);
  bool registered = false;
  bool refused = false;
  unsigned long long records = 0, lost = 0;
  while (!stop_requested) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 500) <= 0) continue;  // timeout or EINTR: look at stop_requested
    for (;;) {
      ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {
          ++lost;  // the receive buffer overflowed: records were dropped
          continue;
        }
        break;  // EAGAIN, EINTR
      }
      if (static_cast<std::size_t>(n) < NLMSG_HDRLEN) continue;
      const nlmsghdr* header = reinterpret_cast<const nlmsghdr*>(buffer.data());
      if (header->nlmsg_type == NLMSG_ERROR && !registered) {
        const nlmsgerr* err = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(header));
        if (err->error != 0) {
          std::fprintf(stderr, "AUDIT_SET pid refused: %s\n", std::strerror(-err->error));
          refused = true;
          stop_requested = 1;
        } else {
          registered = true;
        }
        continue;
      }
      if (!is_record(header->nlmsg_type)) continue;
      // One record per datagram; the kernel's nlmsg_len leaves the header out, so the datagram
      // length is what counts. The payload may end with NULs.
      std::size_t length = static_cast<std::size_t>(n) - NLMSG_HDRLEN;
      const char* payload = buffer.data() + NLMSG_HDRLEN;
      while (length > 0 && (payload[length - 1] == '\0' || payload[length - 1] == '\n')) --length;
      std::string line = "type=" + type_name(header->nlmsg_type) + " msg=";
      line.append(payload, length);
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
      ++records;
    }
    std::fflush(stdout);  // the capture script watches the file for its end marker
  }
  std::fflush(stdout);
  if (registered && !refused) send_set_pid(fd, 0);
  close(fd);
  std::fprintf(stderr, "audit_netlink_capture: %llu records, %llu overflows\n", records, lost);
  return refused || lost > 0 ? 1 : 0;
}
