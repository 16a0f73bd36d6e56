#include "output/file/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/write_all.h"

namespace aurelay::output {
bool is_stdout_path(std::string_view path) { return path == "-" || path == "stdout"; }

namespace {

Result<int> open_for_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return fail("cannot open output " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::open(FileSinkConfig config, OutputStats* stats) {
  if (is_stdout_path(config.path))
    return std::unique_ptr<FileSink>(new FileSink(std::move(config), STDOUT_FILENO, false, stats));
  Result<int> fd = open_for_append(config.path);
  if (!fd) return fail(fd.error());
  return std::unique_ptr<FileSink>(new FileSink(std::move(config), *fd, true, stats));
}

FileSink::FileSink(FileSinkConfig config, int fd, bool owns_fd, OutputStats* stats)
    : Sink(stats), config_(std::move(config)), fd_(fd), owns_fd_(owns_fd) {}

FileSink::~FileSink() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

bool FileSink::write_all(std::string_view bytes) {
  if (aurelay::write_all(fd_, bytes)) return true;
  increment(counters().output_write_errors);
  increment(counters().batches_retried);  // the shipper writes the batch again
  error_ = "write to " + config_.path + ": " + std::strerror(errno);
  return false;
}

SinkStatus FileSink::write(const DocumentBatch& batch) {
  if (fd_ < 0) return SinkStatus::failed;
  std::string_view bytes = batch.data();
  if (!config_.prepend_msg.empty() || !config_.postpend_msg.empty()) {
    framed_.clear();
    for (std::size_t i = 0; i < batch.count(); ++i) {
      framed_.append(config_.prepend_msg);
      framed_.append(batch.document(i));
      framed_.append(config_.postpend_msg);
      framed_.push_back('\n');
    }
    bytes = framed_;
  }
  // A batch that fails half way (disk full) is taken back, so that "failed" means nothing of it
  // was written and writing it again later duplicates nothing.
  const off_t start = owns_fd_ ? ::lseek(fd_, 0, SEEK_END) : -1;
  if (!write_all(bytes)) {
    if (start >= 0 && ::ftruncate(fd_, start) != 0) error_ += " (and the partial batch stays)";
    return SinkStatus::failed;
  }
  increment(counters().documents_delivered, batch.count());
  increment(counters().output_bytes_written, bytes.size());
  return SinkStatus::ok;
}

bool FileSink::flush(int) {
  if (fd_ < 0) return false;
  if (owns_fd_ && ::fdatasync(fd_) != 0 && errno != EINVAL) {
    error_ = "fdatasync " + config_.path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

void FileSink::reopen() {
  if (!owns_fd_) return;
  Result<int> fd = open_for_append(config_.path);
  if (!fd) {
    error_ = fd.error();  // keep writing to the old file rather than lose documents
    increment(counters().output_write_errors);
    return;
  }
  ::close(fd_);
  fd_ = *fd;
  increment(counters().output_reopens);
}

}  // namespace aurelay::output
