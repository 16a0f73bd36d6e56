// The ceiling for the live storm benchmark: the least a netlink audit reader can do. Registers as
// the audit daemon (or joins the multicast group with --multicast), drains with recvmmsg, counts
// records and nothing else. On SIGTERM/SIGINT it gives the pid back and prints one line:
//   records=N datagrams=N enobufs=N truncated=N seconds=S records_per_s=R
// where seconds runs from the first to the last record received.
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

volatile sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

double now_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

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

}  // namespace

int main(int argc, char** argv) {
  bool multicast = false;
  int buffer_bytes = 8 * 1024 * 1024;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--multicast") == 0) {
      multicast = true;
    } else if (std::strcmp(argv[i], "--rcvbuf") == 0 && i + 1 < argc) {
      buffer_bytes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--multicast] [--rcvbuf BYTES]\n", argv[0]);
      return 2;
    }
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
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof(buffer_bytes)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (multicast) local.nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    std::perror("bind");
    return 1;
  }
  if (!multicast && !send_set_pid(fd, static_cast<std::uint32_t>(getpid()))) {
    std::perror("AUDIT_SET pid");
    return 1;
  }

  constexpr unsigned kSlots = 64;
  constexpr std::size_t kSlotSize = 9216;
  std::vector<char> buffer(kSlots * kSlotSize);
  mmsghdr messages[kSlots];
  iovec iovecs[kSlots];
  std::uint64_t records = 0, datagrams = 0, enobufs = 0, truncated = 0, refused = 0;
  double first = 0, last = 0;
  bool registered = multicast;

  while (!stop_requested) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 1000) < 0 && errno != EINTR) break;
    for (;;) {
      for (unsigned i = 0; i < kSlots; ++i) {
        iovecs[i] = iovec{buffer.data() + i * kSlotSize, kSlotSize};
        messages[i] = mmsghdr{};
        messages[i].msg_hdr.msg_iov = &iovecs[i];
        messages[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd, messages, kSlots, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == ENOBUFS) {
          ++enobufs;
          continue;
        }
        break;  // EAGAIN, EINTR
      }
      datagrams += static_cast<std::uint64_t>(n);
      std::uint64_t before = records;
      for (int i = 0; i < n; ++i) {
        if (messages[i].msg_hdr.msg_flags & MSG_TRUNC) {
          ++truncated;
          continue;
        }
        if (messages[i].msg_len < sizeof(nlmsghdr)) continue;
        const nlmsghdr* header = reinterpret_cast<const nlmsghdr*>(iovecs[i].iov_base);
        if (header->nlmsg_type == NLMSG_ERROR && !registered) {
          const nlmsgerr* err = reinterpret_cast<const nlmsgerr*>(header + 1);
          if (err->error != 0) {
            std::fprintf(stderr, "AUDIT_SET pid refused: %s\n", std::strerror(-err->error));
            refused = 1;
            stop_requested = 1;
          } else {
            registered = true;
          }
        }
        if (is_record(header->nlmsg_type)) ++records;
      }
      if (records != before) {
        last = now_seconds();
        if (first == 0) first = last;
      }
      if (static_cast<unsigned>(n) < kSlots) break;
    }
  }
  if (!multicast && registered && !refused) send_set_pid(fd, 0);
  close(fd);
  double seconds = last > first ? last - first : 0;
  std::printf(
      "records=%llu datagrams=%llu enobufs=%llu truncated=%llu seconds=%.3f records_per_s=%.0f\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(datagrams),
      static_cast<unsigned long long>(enobufs), static_cast<unsigned long long>(truncated), seconds,
      seconds > 0 ? static_cast<double>(records) / seconds : 0.0);
  return refused ? 1 : 0;
}
