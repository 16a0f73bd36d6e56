// Where raw records come from: the kernel (netlink), stdin (auditd plugin) or a log file.
// A source is owned by the reader thread.
#pragma once

#include <cstdint>
#include <string>

#include "correlate/record_batch.h"

namespace aurelay::collector {

enum class SourceStatus : std::uint8_t {
  records,  // appended at least one record
  idle,     // nothing arrived within the wait
  end,      // end of input (file or stdin closed); nothing more will come
  failed,   // unrecoverable; error() says why
};

struct SourceCounters {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t enobufs = 0;
  std::uint64_t truncated = 0;  // records cut short (netlink MSG_TRUNC, over-long lines)
  std::uint64_t replace_probes = 0;
  // netlink only
  std::uint64_t datagrams = 0;       // everything received, records or not
  std::uint64_t non_records = 0;     // acks and replies on the data socket (ignored)
  std::uint64_t malformed = 0;       // shorter than a netlink header (dropped)
  std::uint64_t foreign_sender = 0;  // not sent by the kernel (dropped)
  std::uint64_t receive_errors = 0;  // receive errors other than ENOBUFS
  std::uint64_t reads = 0;           // receive system calls (recvmmsg)
  std::uint64_t empty_reads = 0;     // receive calls that found nothing
  std::uint64_t waits = 0;           // sleeps: for the first record, or for more to accumulate
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Appends up to `max_records` records to `batch`, waiting at most `max_wait_ms` for the first.
  virtual SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records,
                            int max_wait_ms) = 0;
  // Graceful stop: take in nothing new (netlink: give the audit pid back), so that read() drains
  // what is already queued and then reports `end`.
  virtual void stop_intake() = 0;
  virtual SourceCounters counters() const = 0;
  virtual const std::string& error() const = 0;
};

}  // namespace aurelay::collector
