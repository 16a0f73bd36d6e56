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

// "stdout" or "-": the file output writes to standard output.
bool is_stdout_path(std::string_view path);

class FileSink final : public Sink {
 public:
  // `stats`: where it counts (the daemon's Metrics); null = its own.
  static Result<std::unique_ptr<FileSink>> open(FileSinkConfig config,
                                                OutputStats* stats = nullptr);
  ~FileSink() override;

  SinkStatus write(const DocumentBatch& batch) override;
  bool flush(int deadline_ms) override;
  void reopen() override;
  const std::string& last_error() const override { return error_; }

 private:
  FileSink(FileSinkConfig config, int fd, bool owns_fd, OutputStats* stats);
  bool write_all(std::string_view bytes);

  FileSinkConfig config_;
  int fd_;
  bool owns_fd_;
  std::string framed_;  // scratch for prepend/postpend framing
  std::string error_;
};

}  // namespace aurelay::output
