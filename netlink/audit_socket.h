// The audit data socket: receives kernel audit records, either as the registered audit daemon
// (unicast, AUDIT_SET pid on this very socket) or read-only from the AUDIT_NLGRP_READLOG
// multicast group. Owned by one thread (the reader); synchronous, no threads.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/stats.h"
#include "correlate/record_batch.h"
#include "netlink/audit_message.h"

namespace aurelay::netlink {

enum class DataSocketMode : std::uint8_t {
  unicast,    // register as the audit daemon: lossless (the kernel backlog absorbs bursts)
  multicast,  // read-only beside another daemon: loses records silently when the buffer overruns
};

// receive_buffer_bytes' default: a burst the reader has not yet taken waits here, then in the
// kernel backlog.
inline constexpr int kDefaultReceiveBufferBytes = 32 * 1024 * 1024;

struct DataSocketOptions {
  DataSocketMode mode = DataSocketMode::unicast;
  // SO_RCVBUFFORCE (falls back to SO_RCVBUF without CAP_NET_ADMIN); 0 keeps the default.
  int receive_buffer_bytes = kDefaultReceiveBufferBytes;
  // Datagrams per recvmmsg call (each needs a 9 KiB receive slot).
  std::size_t datagrams_per_call = 64;
  // How long open() waits for the kernel's answer to AUDIT_SET.
  int registration_timeout_ms = 2000;
};

// What the reader takes in: records and bytes from any input, the rest from the netlink socket
// (reader_waits from the collector's netlink source, which sleeps between reads).
// clang-format off
#define AURELAY_RECEIVE_STATS(COUNTER, GAUGE)                                                     \
  COUNTER(records_received, "records received", "Audit records read from the input")           \
  COUNTER(bytes_received, "bytes received", "Bytes of audit records read from the input")      \
  COUNTER(receive_enobufs, "receive ENOBUFS", "Netlink socket overruns (the kernel dropped records)") \
  COUNTER(records_truncated, "records truncated", "Records cut short or too long for a receive slot") \
  COUNTER(replace_probes_ignored, "replace probes ignored", "AUDIT_REPLACE probes ignored by the reader") \
  COUNTER(netlink_datagrams, "netlink datagrams received", "Netlink datagrams received, records or not") \
  COUNTER(netlink_non_records, "netlink non-record messages ignored", "Netlink acks and replies on the data socket") \
  COUNTER(netlink_malformed, "netlink malformed messages", "Netlink messages shorter than a header (dropped)") \
  COUNTER(netlink_foreign_sender, "netlink foreign sender messages", "Netlink messages not sent by the kernel (dropped)") \
  COUNTER(receive_errors, "receive errors", "Input receive errors other than ENOBUFS")          \
  COUNTER(netlink_reads, "netlink reads", "recvmmsg calls on the audit socket (records per read: records received / (reads - empty reads))") \
  COUNTER(netlink_empty_reads, "netlink empty reads", "recvmmsg calls that found the audit socket empty") \
  COUNTER(reader_waits, "reader waits", "Times the reader slept: for the first record, or letting more records queue behind it")
// clang-format on

struct ReceiveStats {
  AURELAY_STATS_MEMBERS(AURELAY_RECEIVE_STATS)
};

struct ReceiveResult {
  std::size_t records = 0;   // records added to the batch by this call
  bool would_block = false;  // the socket is (probably) empty: poll before calling again
  int error = 0;             // errno of an unexpected receive error, 0 otherwise
};

class AuditDataSocket {
 public:
  // Counts into `stats` when given (the daemon's Metrics), otherwise into its own.
  explicit AuditDataSocket(ReceiveStats* stats = nullptr) : stats_(stats) {}
  ~AuditDataSocket();
  AuditDataSocket(const AuditDataSocket&) = delete;
  AuditDataSocket& operator=(const AuditDataSocket&) = delete;

  // Opens the socket. Unicast: AUDIT_SET pid=getpid() from this socket and waits for the ack;
  // when another process holds the pid, fails with exit code kExitAuditPidHeld and an error()
  // naming that pid (other failures carry no exit code). Records that arrive before the ack (the
  // kernel flushes its hold queue on registration) are kept and returned by the first
  // receive_batch().
  Status open(const DataSocketOptions& options);

  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  bool registered() const { return registered_; }
  DataSocketMode mode() const { return options_.mode; }
  // Receive buffer size the kernel granted (getsockopt SO_RCVBUF).
  int receive_buffer_bytes() const { return granted_buffer_bytes_; }

  // Non-blocking drain: receives up to `max_records` records into `batch` (appended; the batch
  // is not cleared), and stops once the batch holds `max_bytes` (checked between system calls,
  // so it may end up to datagrams_per_call datagrams beyond). Never blocks. ENOBUFS and
  // truncation are counted, never fatal.
  ReceiveResult receive_batch(correlate::RecordBatch& batch, std::size_t max_records,
                              std::size_t max_bytes = SIZE_MAX);

  const ReceiveStats& stats() const { return *stats_; }

  // Unicast: gives the audit pid back (AUDIT_SET pid 0) if this process still holds it. After
  // this, records already queued on the socket can still be drained with receive_batch().
  // Does nothing for multicast or when not registered.
  Status release();

  // release() if needed, then closes the socket.
  void close();

 private:
  // Closes the half-opened socket and returns the failure: `message`, then strerror of
  // `error_number` unless it is 0.
  Failure abandon_open(std::optional<int> exit_code, int error_number, std::string message);
  // abandon_open() for a failed system call: EEXIST (the audit pid is taken) exits 3.
  Failure abandon_open(int error_number, std::string message);
  Status register_pid();
  void keep_early_record(std::uint32_t type, std::string_view payload);
  // Counts a datagram that is not a record (probe, truncated, malformed, ack or reply).
  void count_discarded(DatagramKind kind);

  DataSocketOptions options_;
  int fd_ = -1;
  bool registered_ = false;
  int granted_buffer_bytes_ = 0;
  StatsStorage<ReceiveStats> stats_;

  // recvmmsg slots: one header + payload region per datagram. Not zero-filled: a slot's pages
  // are touched only as far as datagrams reach (most records are far smaller than a slot).
  std::unique_ptr<char[]> slots_;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_nl> senders_;  // unused when kernel_only_
  bool kernel_only_ = false;          // connected to the kernel: no other sender gets through

  // Records received while waiting for the registration ack.
  correlate::RecordBatch early_records_;
  std::size_t early_next_ = 0;
};

}  // namespace aurelay::netlink
