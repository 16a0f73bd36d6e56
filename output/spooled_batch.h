// What the two spooling outputs (HttpSink, AmqpSink) share around the disk spool: the payload of
// a spool record, which is one batch (the oldest event's time as 8 bytes little-endian, then its
// documents as NDJSON; the same for both outputs, so a spool left by one is sent by the other),
// and what a spool write counts and warns about.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "output/spool.h"

namespace aurelay::output {

// Opens the spool of a sink (`sink_name` starts its messages: "http sink"), indexing what a
// previous run left; when that holds documents the log says so (they are sent first).
Result<std::unique_ptr<Spool>> open_sink_spool(std::string_view sink_name, SpoolConfig config);

// What writing one batch to the spool did.
struct SpoolWrite {
  SpoolAppendResult result = SpoolAppendResult::appended;
  std::uint64_t spooled = 0;             // documents now on disk
  std::uint64_t dropped_spool_full = 0;  // documents a full spool discarded (older or these)
  std::string problem;                   // empty, or what to warn about (without the sink's name)
};

// Appends one batch as one record. Not written: the spool is full with drop_newest (counted in
// dropped_spool_full) or an I/O error (the spool's message in `problem`).
SpoolWrite spool_batch(Spool& spool, std::uint32_t count, std::uint64_t oldest_ms,
                       std::string_view ndjson);

struct SpooledBatch {
  std::uint64_t oldest_ms = 0;
  std::string ndjson;
};

// The batch a record holds; nullopt when the payload is too short for its head.
std::optional<SpooledBatch> read_spooled_batch(std::string payload);

}  // namespace aurelay::output
