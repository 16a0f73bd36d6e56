// Records from the kernel's audit netlink socket (as the audit daemon, or multicast beside one).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "collector/record_source.h"
#include "netlink/audit_socket.h"

namespace aurelay::collector {

class NetlinkSource final : public RecordSource {
 public:
  // Opens the data socket; on failure returns nullptr with `error` and `open_error` set.
  static std::unique_ptr<NetlinkSource> open(const netlink::DataSocketOptions& options,
                                             std::string& error, netlink::OpenError& open_error);

  SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records,
                    int max_wait_ms) override;
  void stop_intake() override;
  SourceCounters counters() const override;
  const std::string& error() const override { return error_; }

 private:
  NetlinkSource() = default;

  netlink::AuditDataSocket socket_;
  static constexpr int kMaxReadsAfterStop = 1024;
  // A read of fewer records than this is small: the next read pauses first.
  static constexpr std::size_t kSmallRead = 64;
  static constexpr std::chrono::nanoseconds kCoalescePause{250'000};
  bool last_read_was_small_ = false;
  bool intake_stopped_ = false;
  int reads_after_stop_ = 0;
  std::string error_;
};

}  // namespace aurelay::collector
