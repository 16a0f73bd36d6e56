// Turns one audit event into one MozDef JSON document (the fields audisp-json sent).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "correlate/event.h"
#include "output/document_batch.h"

namespace aurelay::output {

struct EncoderConfig {
  std::string hostname;         // "hostname"; the event's node= wins when present
  std::string severity = "INFO";
  std::string tags = "aurelay";  // comma separated list, becomes the "tags" array
};

struct EncoderCounters {
  std::uint64_t documents = 0;
  std::uint64_t invalid_utf8_fixed = 0;  // values whose invalid UTF-8 bytes were escaped
  std::uint64_t failed = 0;              // events that could not be encoded (never sent)
};

class MozdefEncoder {
 public:
  explicit MozdefEncoder(EncoderConfig config);
  ~MozdefEncoder();
  MozdefEncoder(const MozdefEncoder&) = delete;
  MozdefEncoder& operator=(const MozdefEncoder&) = delete;

  // Appends one document for `event` to `batch` (and ends it). Returns false, leaving the batch
  // as it was, when the event cannot be encoded.
  bool encode(const correlate::Event& event, DocumentBatch& batch);

  const EncoderCounters& counters() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace aurelay::output
