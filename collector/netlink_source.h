// Records from the kernel's audit netlink socket (as the audit daemon, or multicast beside one).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "collector/record_source.h"
#include "netlink/audit_socket.h"

namespace aurelay::collector {

class NetlinkSource final : public RecordSource {
 public:
  // Opens the data socket. Fails as AuditDataSocket::open does (exit code kExitAuditPidHeld when
  // another process holds the audit pid). Counts into `stats` when given (the daemon's Metrics),
  // otherwise into its own.
  static Result<std::unique_ptr<NetlinkSource>> open(const netlink::DataSocketOptions& options,
                                                     ReceiveStats* stats = nullptr);

  // How long records may wait in the socket for more to join them.
  static constexpr std::chrono::milliseconds kDefaultLinger{5};
  // A batch this large goes at once, whatever its age.
  static constexpr std::size_t kDefaultMaxBatchBytes = std::size_t{128} * 1024;

  // Lets records queue in the socket for kDefaultLinger before taking them (unless the last
  // batch filled, or intake stopped): under a steady flow that turns a wake-up, a read and a
  // hand-over per few records into one per kDefaultLinger, for a few ms of latency.
  SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records,
                    int max_wait_ms) override;
  void stop_intake() override;
  const ReceiveStats& stats() const override { return *stats_; }
  const std::string& error() const override { return error_; }

 private:
  explicit NetlinkSource(ReceiveStats* stats) : stats_(stats), socket_(&*stats_) {}

  // Receives what the socket holds into `batch` (up to `max_records` in all); false on a receive
  // error (error_ set).
  bool drain(correlate::RecordBatch& batch, std::size_t max_records, std::size_t& added);
  void sleep_for(std::chrono::nanoseconds pause);

  StatsStorage<ReceiveStats> stats_;
  netlink::AuditDataSocket socket_;
  static constexpr int kMaxReadsAfterStop = 1024;
  std::chrono::nanoseconds linger_{kDefaultLinger};
  std::size_t max_batch_bytes_ = kDefaultMaxBatchBytes;
  bool flowing_ = false;  // the last read took records without filling the batch
  bool intake_stopped_ = false;
  int reads_after_stop_ = 0;
  std::string error_;
};

}  // namespace aurelay::collector
