#include "output/dead_letter.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace aurelay::output {

DeadLetterFile::DeadLetterFile(std::string path) : path_(std::move(path)) {}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

void DeadLetterFile::reopen() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool DeadLetterFile::write(std::string_view ndjson, std::uint64_t documents) {
  if (path_.empty()) return true;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      ++write_errors_;
      last_error_ = "dead letter file " + path_ + ": " + std::strerror(errno);
      return false;
    }
  }
  while (!ndjson.empty()) {
    ssize_t n = ::write(fd_, ndjson.data(), ndjson.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++write_errors_;
      last_error_ = "dead letter file " + path_ + ": " + std::strerror(errno);
      return false;
    }
    ndjson.remove_prefix(static_cast<std::size_t>(n));
  }
  documents_written_ += documents;
  return true;
}

}  // namespace aurelay::output
