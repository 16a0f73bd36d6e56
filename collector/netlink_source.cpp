#include "collector/netlink_source.h"

#include <poll.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace aurelay::collector {

std::unique_ptr<NetlinkSource> NetlinkSource::open(const netlink::DataSocketOptions& options,
                                                   std::string& error,
                                                   netlink::OpenError& open_error) {
  std::unique_ptr<NetlinkSource> source(new NetlinkSource());
  if (!source->socket_.open(options, error)) {
    open_error = source->socket_.open_error();
    return nullptr;
  }
  open_error = netlink::OpenError::none;
  return source;
}

SourceStatus NetlinkSource::read(correlate::RecordBatch& batch, std::size_t max_records,
                                 int max_wait_ms) {
  // Multicast keeps delivering after stop_intake(): drain a bounded amount, then end.
  if (intake_stopped_ && ++reads_after_stop_ > kMaxReadsAfterStop) return SourceStatus::end;
  // Under a steady flow, handing over a few records per wake-up costs more than the records
  // (context switches in three threads). After a small read, let the kernel queue more first;
  // the socket buffer holds far more than arrives in this pause.
  if (last_read_was_small_ && !intake_stopped_) {
    timespec pause{0, kCoalescePause.count()};
    ::nanosleep(&pause, nullptr);
  }
  netlink::ReceiveResult result = socket_.receive_batch(batch, max_records);
  last_read_was_small_ = result.records > 0 && result.records < kSmallRead;
  if (result.records > 0) return SourceStatus::records;
  if (result.error != 0 && result.error != EINTR) {
    error_ = std::string("audit netlink receive: ") + std::strerror(result.error);
    return SourceStatus::failed;
  }
  // Nothing queued: after stop_intake() that is the end, otherwise wait for the kernel.
  if (intake_stopped_) return SourceStatus::end;
  pollfd pfd{socket_.fd(), POLLIN, 0};
  if (::poll(&pfd, 1, max_wait_ms) <= 0) return SourceStatus::idle;
  result = socket_.receive_batch(batch, max_records);
  last_read_was_small_ = result.records > 0 && result.records < kSmallRead;
  return result.records > 0 ? SourceStatus::records : SourceStatus::idle;
}

void NetlinkSource::stop_intake() {
  if (intake_stopped_) return;
  intake_stopped_ = true;
  // The kernel stops sending once the pid is back; what it already queued is still drained.
  std::string error;
  if (!socket_.release(error) && !error.empty()) error_ = error;
}

SourceCounters NetlinkSource::counters() const {
  const netlink::ReceiveCounters& counters = socket_.counters();
  SourceCounters result;
  result.records = counters.records;
  result.bytes = counters.bytes;
  result.enobufs = counters.enobufs;
  result.truncated = counters.truncated;
  result.replace_probes = counters.replace_probes;
  result.datagrams = counters.datagrams;
  result.non_records = counters.non_records;
  result.malformed = counters.malformed;
  result.foreign_sender = counters.foreign_sender;
  result.receive_errors = counters.receive_errors;
  return result;
}

}  // namespace aurelay::collector
