// Where raw records come from: the kernel (netlink), stdin (auditd plugin) or a log file.
// A source is owned by the reader thread.
#pragma once

#include <cstdint>
#include <string>

#include "correlate/record_batch.h"
#include "netlink/audit_socket.h"

namespace aurelay::collector {

enum class SourceStatus : std::uint8_t {
  records,  // appended at least one record
  idle,     // nothing arrived within the wait
  end,      // end of input (file or stdin closed); nothing more will come
  failed,   // unrecoverable; error() says why
};

// A source counts what it takes in (records_received, bytes_received, records_truncated; netlink
// sources the rest) into its ReceiveStats (netlink/audit_socket.h), written by the reader thread.
using netlink::ReceiveStats;

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Appends up to `max_records` records to `batch`, waiting at most `max_wait_ms` for the first.
  virtual SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records,
                            int max_wait_ms) = 0;
  // Graceful stop: take in nothing new (netlink: give the audit pid back), so that read() drains
  // what is already queued and then reports `end`.
  virtual void stop_intake() = 0;
  virtual const ReceiveStats& stats() const = 0;
  virtual const std::string& error() const = 0;
};

}  // namespace aurelay::collector
