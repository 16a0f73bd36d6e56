#include "netlink/audit_socket.h"

#include <linux/audit.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "netlink/audit_control.h"
#include "netlink/audit_message.h"

namespace aurelay::netlink {

namespace {

// One receive slot per datagram: at least header + MAX_AUDIT_MESSAGE_LENGTH.
constexpr std::size_t kSlotSize = 9216;
static_assert(kSlotSize >= kMaxAuditDatagram);

std::string process_name(std::uint32_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

}  // namespace

AuditDataSocket::~AuditDataSocket() { close(); }

Failure AuditDataSocket::abandon_open(std::optional<int> exit_code, int error_number,
                                      std::string message) {
  if (error_number != 0) message += std::string(": ") + std::strerror(error_number);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  registered_ = false;
  return Failure{std::move(message), exit_code};
}

Failure AuditDataSocket::abandon_open(int error_number, std::string message) {
  const std::optional<int> exit_code =
      error_number == EEXIST ? std::optional<int>(kExitAuditPidHeld) : std::nullopt;
  return abandon_open(exit_code, error_number, std::move(message));
}

Status AuditDataSocket::open(const DataSocketOptions& options) {
  close();
  options_ = options;
  options_.datagrams_per_call = std::max<std::size_t>(1, options_.datagrams_per_call);
  early_records_.clear();
  early_next_ = 0;

  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd_ < 0) {
    int saved = errno;
    return abandon_open(saved, "audit netlink socket");
  }
  if (options_.receive_buffer_bytes > 0) {
    int size = options_.receive_buffer_bytes;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
      // Without CAP_NET_ADMIN: the best rmem_max allows.
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
  }
  socklen_t length = sizeof(granted_buffer_bytes_);
  getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted_buffer_bytes_, &length);
  int off = 0;  // we want ENOBUFS reported so overruns are counted
  setsockopt(fd_, SOL_NETLINK, NETLINK_NO_ENOBUFS, &off, sizeof(off));

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (options_.mode == DataSocketMode::multicast) {
    local.nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1);
  }
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    int saved = errno;
    return abandon_open(saved, options_.mode == DataSocketMode::multicast
                                   ? "joining the audit multicast group (needs CAP_AUDIT_READ)"
                                   : "audit netlink bind");
  }

  // Unicast: connected to the kernel, the socket takes unicasts from the kernel only (the kernel
  // refuses other senders with ECONNREFUSED), so receives need not ask who sent each datagram.
  kernel_only_ = false;
  if (options_.mode == DataSocketMode::unicast) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    kernel_only_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) == 0;
  }

  const std::size_t slots = options_.datagrams_per_call;
  slots_ = std::make_unique_for_overwrite<char[]>(slots * kSlotSize);
  messages_.assign(slots, mmsghdr{});
  iovecs_.assign(slots, iovec{});
  senders_.assign(slots, sockaddr_nl{});
  for (std::size_t i = 0; i < slots; ++i) {
    iovecs_[i].iov_base = slots_.get() + i * kSlotSize;
    iovecs_[i].iov_len = kSlotSize;
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    messages_[i].msg_hdr.msg_name = kernel_only_ ? nullptr : &senders_[i];
    messages_[i].msg_hdr.msg_namelen = kernel_only_ ? 0 : sizeof(sockaddr_nl);
  }

  if (options_.mode == DataSocketMode::unicast) return register_pid();
  return {};
}

void AuditDataSocket::count_discarded(DatagramKind kind) {
  switch (kind) {
    case DatagramKind::record:
      break;
    case DatagramKind::replace_probe:
      increment(stats_->replace_probes_ignored);
      break;
    case DatagramKind::truncated:
      increment(stats_->records_truncated);
      break;
    case DatagramKind::malformed:
      increment(stats_->netlink_malformed);
      break;
    case DatagramKind::ack:
    case DatagramKind::status_reply:
    case DatagramKind::other_reply:
      increment(stats_->netlink_non_records);
      break;
  }
}

void AuditDataSocket::keep_early_record(std::uint32_t type, std::string_view payload) {
  early_records_.append(type, payload);
}

Status AuditDataSocket::register_pid() {
  audit_status status{};
  status.mask = AUDIT_STATUS_PID;
  status.pid = static_cast<std::uint32_t>(getpid());
  char request[kRequestBufferSize];
  const std::uint32_t seq = 1;
  std::size_t length = build_set_status(request, status, seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, request, length, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    int saved = errno;
    return abandon_open(saved, "registering as the audit daemon (AUDIT_SET pid)");
  }

  // Wait for the ack. The kernel may start flushing its hold queue to us before the ack: keep
  // those records for the first receive_batch().
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.registration_timeout_ms);
  char* buffer = slots_.get();
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    sockaddr_nl sender{};
    iovec iov{buffer, kSlotSize};
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof(sender);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    ssize_t received = ::recvmsg(fd_, &message, MSG_DONTWAIT);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ENOBUFS) {
        increment(stats_->receive_enobufs);
        continue;
      }
      int saved = errno;
      return abandon_open(saved, "waiting for the AUDIT_SET answer");
    }
    increment(stats_->netlink_datagrams);
    if (sender.nl_pid != 0) {
      increment(stats_->netlink_foreign_sender);
      continue;
    }
    Datagram datagram = classify_datagram(buffer, static_cast<std::size_t>(received),
                                          (message.msg_flags & MSG_TRUNC) != 0);
    if (datagram.kind == DatagramKind::record) {
      keep_early_record(datagram.type, datagram.payload);
      continue;
    }
    count_discarded(datagram.kind);
    if (datagram.kind == DatagramKind::ack && datagram.seq == seq) {
      if (datagram.error == 0) {
        registered_ = true;
        return {};
      }
      if (datagram.error == EEXIST) {
        std::string holder = "another process";
        AuditControl control;
        Result<AuditStatus> current =
            control.open() ? control.get_status() : Result<AuditStatus>(aurelay::fail("not open"));
        if (current && current->pid != 0) {
          std::string name = process_name(current->pid);
          holder = "process " + std::to_string(current->pid) +
                   (name.empty() ? std::string() : " (" + name + ")");
        }
        return abandon_open(
            kExitAuditPidHeld, 0,
            "the kernel refused to register this process as the audit daemon: " + holder +
                " is already registered (EEXIST); stop it (e.g. systemctl stop "
                "auditd) or read beside it with --input multicast");
      }
      return abandon_open(datagram.error, "registering as the audit daemon (AUDIT_SET pid)");
    }
  }
  // No ack in time (it may have been lost to an overrun): ask the kernel who holds the pid.
  AuditControl control;
  Result<AuditStatus> current =
      control.open() ? control.get_status() : Result<AuditStatus>(aurelay::fail("not open"));
  if (current && current->pid == static_cast<std::uint32_t>(getpid())) {
    registered_ = true;
    return {};
  }
  return abandon_open(ETIMEDOUT, "no answer from the kernel to AUDIT_SET pid");
}

ReceiveResult AuditDataSocket::receive_batch(correlate::RecordBatch& batch, std::size_t max_records,
                                             std::size_t max_bytes) {
  ReceiveResult result;
  if (fd_ < 0) {
    result.error = EBADF;
    return result;
  }
  // Records that arrived while registering come first.
  while (early_next_ < early_records_.size() && result.records < max_records) {
    std::string_view text = early_records_.text(early_next_);
    batch.append(early_records_.type(early_next_), text);
    ++early_next_;
    ++result.records;
    increment(stats_->records_received);
    increment(stats_->bytes_received, text.size());
  }
  if (early_next_ == early_records_.size() && early_next_ != 0) {
    early_records_.clear();
    early_next_ = 0;
  }

  const std::size_t slots = messages_.size();
  while (result.records < max_records && batch.byte_size() < max_bytes) {
    const unsigned count =
        static_cast<unsigned>(std::min<std::size_t>(slots, max_records - result.records));
    for (unsigned i = 0; i < count; ++i) {
      messages_[i].msg_hdr.msg_namelen = kernel_only_ ? 0 : sizeof(sockaddr_nl);
      messages_[i].msg_hdr.msg_flags = 0;
      messages_[i].msg_len = 0;
    }
    int received = ::recvmmsg(fd_, messages_.data(), count, MSG_DONTWAIT, nullptr);
    increment(stats_->netlink_reads);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        increment(stats_->netlink_empty_reads);
        result.would_block = true;
        break;
      }
      if (errno == ENOBUFS) {  // the kernel dropped datagrams; the socket keeps working
        increment(stats_->receive_enobufs);
        continue;
      }
      increment(stats_->receive_errors);
      result.error = errno;
      break;
    }
    for (int i = 0; i < received; ++i) {
      increment(stats_->netlink_datagrams);
      if (!kernel_only_ && senders_[i].nl_pid != 0) {
        increment(stats_->netlink_foreign_sender);
        continue;
      }
      const char* data = slots_.get() + static_cast<std::size_t>(i) * kSlotSize;
      Datagram datagram = classify_datagram(data, messages_[i].msg_len,
                                            (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0);
      if (datagram.kind != DatagramKind::record) {
        count_discarded(datagram.kind);
        continue;
      }
      batch.append(datagram.type, datagram.payload);
      ++result.records;
      increment(stats_->records_received);
      increment(stats_->bytes_received, datagram.payload.size());
    }
    if (static_cast<unsigned>(received) < count) {
      result.would_block = true;  // drained; a datagram arriving now makes poll() wake us
      break;
    }
  }
  return result;
}

Status AuditDataSocket::release() {
  if (!registered_) return {};
  registered_ = false;
  AuditControl control;
  if (Status opened = control.open(); !opened) return opened;
  Result<AuditStatus> status = control.get_status();
  if (!status) return status.failure();
  if (status->pid != static_cast<std::uint32_t>(getpid())) return {};  // no longer ours
  return control.clear_pid();
}

void AuditDataSocket::close() {
  (void)release();  // closing has no caller to tell of a failure
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace aurelay::netlink
