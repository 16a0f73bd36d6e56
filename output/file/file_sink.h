// Writes documents as lines to a file or to standard output.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "output/sink.h"

namespace aurelay::output {

struct FileSinkConfig {
  std::string path;          // "-" or "stdout" for standard output
  std::string prepend_msg;   // written before each document (audisp-json's key)
  std::string postpend_msg;  // written after each document, before the newline
};

struct FileSinkCounters {
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  std::uint64_t write_errors = 0;
  std::uint64_t reopens = 0;
};

// "stdout" or "-": the file output writes to standard output.
bool is_stdout_path(std::string_view path);

class FileSink final : public Sink {
 public:
  static Result<std::unique_ptr<FileSink>> open(FileSinkConfig config);
  ~FileSink() override;

  SinkStatus write(const DocumentBatch& batch) override;
  bool flush(int deadline_ms) override;
  void reopen() override;
  const std::string& last_error() const override { return error_; }
  const FileSinkCounters& counters() const { return counters_; }
  SinkStats stats() override;

 private:
  FileSink(FileSinkConfig config, int fd, bool owns_fd);
  bool write_all(std::string_view bytes);

  FileSinkConfig config_;
  int fd_;
  bool owns_fd_;
  std::string framed_;  // scratch for prepend/postpend framing
  FileSinkCounters counters_;
  std::string error_;
};

}  // namespace aurelay::output
