// Reads audit records as text lines (auditd log files, or an auditd plugin's stdin).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "collector/record_source.h"

namespace aurelay::collector {

class LogFileSource final : public RecordSource {
 public:
  // Longest line kept; a longer one is counted as truncated and skipped.
  static constexpr std::size_t kMaxLine = 1 << 20;

  // Opens `path`, or standard input for "-" / "stdin"; fails saying why. Counts into `stats`
  // when given (the daemon's Metrics), otherwise into its own.
  static Result<std::unique_ptr<LogFileSource>> open(const std::string& path,
                                                     ReceiveStats* stats = nullptr);
  ~LogFileSource() override;

  SourceStatus read(correlate::RecordBatch& batch, std::size_t max_records,
                    int max_wait_ms) override;
  // Stops reading (stdin may never close); lines already buffered are still delivered.
  void stop_intake() override { at_end_ = true; }
  const ReceiveStats& stats() const override { return *stats_; }
  const std::string& error() const override { return error_; }

 private:
  LogFileSource(int fd, bool owns_fd, std::string name, ReceiveStats* stats);
  bool fill(int max_wait_ms);         // reads more bytes into buffer_; false on end or failure
  void reserve_space(std::size_t n);  // room for n more bytes after end_
  void resize_buffer(std::size_t new_capacity);

  int fd_;
  bool owns_fd_;
  std::string name_;
  std::unique_ptr<char[]> buffer_;  // bytes read; [begin_, end_) not yet consumed
  std::size_t capacity_ = 0;
  std::size_t end_ = 0;
  std::size_t begin_ = 0;  // first unconsumed byte of buffer_
  bool at_end_ = false;
  bool skipping_long_line_ = false;
  StatsStorage<ReceiveStats> stats_;
  std::string error_;
};

}  // namespace aurelay::collector
