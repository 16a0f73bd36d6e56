#include "output/dead_letter.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "base/write_all.h"

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
  if (!write_all(fd_, ndjson)) {
    ++write_errors_;
    last_error_ = "dead letter file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  documents_written_ += documents;
  return true;
}

}  // namespace aurelay::output
