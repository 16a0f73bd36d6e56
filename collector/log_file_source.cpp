#include "collector/log_file_source.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace aurelay::collector {
namespace {
// The buffer holds one read of this size (more only while a longer line is pending, given
// back once it is consumed).
constexpr std::size_t kReadChunk = 128 << 10;
// A batch ends after this many bytes of records: a replay outruns the correlator and fills every
// batch of the ring, so the ring holds ring_capacity times this.
constexpr std::size_t kBatchBytes = 64 << 10;
}  // namespace

Result<std::unique_ptr<LogFileSource>> LogFileSource::open(const std::string& path,
                                                           ReceiveStats* stats) {
  if (path == "-" || path == "stdin")
    return std::unique_ptr<LogFileSource>(new LogFileSource(STDIN_FILENO, false, "stdin", stats));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open input " + path + ": " + std::strerror(errno));
  return std::unique_ptr<LogFileSource>(new LogFileSource(fd, true, path, stats));
}

LogFileSource::LogFileSource(int fd, bool owns_fd, std::string name, ReceiveStats* stats)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)), stats_(stats) {
  reserve_space(kReadChunk);
}

LogFileSource::~LogFileSource() {
  if (owns_fd_) ::close(fd_);
}

void LogFileSource::reserve_space(std::size_t n) {
  if (capacity_ - end_ >= n) return;
  resize_buffer(std::max(2 * capacity_, end_ + n));
}

void LogFileSource::resize_buffer(std::size_t new_capacity) {
  // Never zero-filled: only bytes read from the file are ever looked at.
  std::unique_ptr<char[]> buffer(new char[new_capacity]);
  if (end_ > 0) std::memcpy(buffer.get(), buffer_.get(), end_);
  buffer_ = std::move(buffer);
  capacity_ = new_capacity;
}

bool LogFileSource::fill(int max_wait_ms) {
  if (at_end_) return false;
  // Keep the unconsumed tail (a partial line) at the front.
  if (begin_ > 0) {
    if (end_ > begin_) std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  pollfd pfd{fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, max_wait_ms);
  if (ready == 0) return false;
  if (ready < 0 && errno != EINTR) {
    error_ = "poll on " + name_ + ": " + std::strerror(errno);
    at_end_ = true;
    return false;
  }
  if (capacity_ > kReadChunk && end_ <= kReadChunk / 2)
    resize_buffer(kReadChunk);  // a long line grew it: give that back
  else
    reserve_space(kReadChunk / 2);  // a long line pending: grow
  ssize_t n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return false;
    if (n < 0) error_ = "read from " + name_ + ": " + std::strerror(errno);
    at_end_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  increment(stats_->bytes_received, static_cast<std::uint64_t>(n));
  return true;
}

SourceStatus LogFileSource::read(correlate::RecordBatch& batch, std::size_t max_records,
                                 int max_wait_ms) {
  std::size_t added = 0;
  int wait_ms = max_wait_ms;
  if (batch.empty()) batch.reserve_bytes(kBatchBytes + kBatchBytes / 8);
  while (added < max_records && batch.byte_size() < kBatchBytes) {
    std::string_view pending(buffer_.get() + begin_, end_ - begin_);
    std::size_t newline = pending.find('\n');
    if (newline == std::string_view::npos) {
      if (pending.size() > kMaxLine) {
        // Drop the over-long line's bytes seen so far; skip to its end.
        increment(stats_->records_truncated);
        skipping_long_line_ = true;
        begin_ = end_;
        continue;
      }
      if (added > 0) wait_ms = 0;  // hand over what we have rather than wait
      if (fill(wait_ms)) continue;
      if (at_end_ && begin_ < end_) {
        // Last line without a newline.
        if (!skipping_long_line_) {
          batch.append(correlate::RecordBatch::kLogLine,
                       std::string_view(buffer_.get() + begin_, end_ - begin_));
          increment(stats_->records_received);
          ++added;
        }
        begin_ = end_;
      }
      break;
    }
    std::string_view line = pending.substr(0, newline);
    begin_ += newline + 1;
    if (skipping_long_line_) {
      skipping_long_line_ = false;
      continue;
    }
    if (line.size() > kMaxLine) {
      increment(stats_->records_truncated);
      continue;
    }
    if (line.empty()) continue;
    batch.append(correlate::RecordBatch::kLogLine, line);
    increment(stats_->records_received);
    ++added;
  }
  if (added > 0) return SourceStatus::records;
  if (at_end_) return error_.empty() ? SourceStatus::end : SourceStatus::failed;
  return SourceStatus::idle;
}

}  // namespace aurelay::collector
