// Where documents the server rejected for good (4xx other than 408/429) are kept for an operator:
// one document per line, exactly as it was sent, so it can be fixed and re-posted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aurelay::output {

class DeadLetterFile {
 public:
  // An empty path disables the file (documents are then only counted).
  explicit DeadLetterFile(std::string path);
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  bool enabled() const { return !path_.empty(); }
  // Appends the documents (each followed by '\n'; `ndjson` must already end with '\n').
  // False on I/O error (counted; last_error() says why).
  bool write(std::string_view ndjson, std::uint64_t documents);
  // Closes the file so the next write opens it again (logrotate).
  void reopen();

  std::uint64_t documents_written() const { return documents_written_; }
  std::uint64_t write_errors() const { return write_errors_; }
  const std::string& last_error() const { return last_error_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t documents_written_ = 0;
  std::uint64_t write_errors_ = 0;
  std::string last_error_;
};

}  // namespace aurelay::output
