#include "collector/netlink_source.h"

#include <poll.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace aurelay::collector {

Result<std::unique_ptr<NetlinkSource>> NetlinkSource::open(
    const netlink::DataSocketOptions& options, ReceiveStats* stats) {
  std::unique_ptr<NetlinkSource> source(new NetlinkSource(stats));
  if (Status opened = source->socket_.open(options); !opened) return opened.failure();
  return source;
}

bool NetlinkSource::drain(correlate::RecordBatch& batch, std::size_t max_records,
                          std::size_t& added) {
  netlink::ReceiveResult result =
      socket_.receive_batch(batch, max_records - added, max_batch_bytes_);
  added += result.records;
  if (result.error != 0 && result.error != EINTR) {
    error_ = std::string("audit netlink receive: ") + std::strerror(result.error);
    return false;
  }
  return true;
}

void NetlinkSource::sleep_for(std::chrono::nanoseconds pause) {
  increment(stats_->reader_waits);
  timespec ts{static_cast<time_t>(pause.count() / 1'000'000'000),
              static_cast<long>(pause.count() % 1'000'000'000)};
  ::nanosleep(&ts, nullptr);
}

SourceStatus NetlinkSource::read(correlate::RecordBatch& batch, std::size_t max_records,
                                 int max_wait_ms) {
  // Multicast keeps delivering after stop_intake(): drain a bounded amount, then end.
  if (intake_stopped_ && ++reads_after_stop_ > kMaxReadsAfterStop) return SourceStatus::end;
  // While records flow, the reader sleeps linger_ and takes what queued meanwhile: one wake-up
  // per batch. Once a read finds nothing it waits in poll() for the next record, then lets
  // more queue behind it for linger_ (a quiet host's records leave within linger_).
  std::size_t added = 0;
  if (flowing_ && !intake_stopped_) sleep_for(linger_);
  if (!drain(batch, max_records, added)) return SourceStatus::failed;
  if (added == 0) {
    flowing_ = false;
    // Nothing queued: after stop_intake() that is the end, otherwise wait for the kernel.
    if (intake_stopped_) return SourceStatus::end;
    increment(stats_->reader_waits);
    pollfd pfd{socket_.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, max_wait_ms) <= 0) return SourceStatus::idle;
    if (!intake_stopped_) sleep_for(linger_);
    if (!drain(batch, max_records, added)) return SourceStatus::failed;
    if (added == 0) return SourceStatus::idle;
  }
  // A full batch leaves at once and the next read does not sleep: under a storm the reader
  // drains back to back (the socket buffer, then the kernel backlog, hold what waits).
  flowing_ = added < max_records && batch.byte_size() < max_batch_bytes_;
  return SourceStatus::records;
}

void NetlinkSource::stop_intake() {
  if (intake_stopped_) return;
  intake_stopped_ = true;
  // The kernel stops sending once the pid is back; what it already queued is still drained.
  if (Status released = socket_.release(); !released) error_ = released.error();
}

}  // namespace aurelay::collector
