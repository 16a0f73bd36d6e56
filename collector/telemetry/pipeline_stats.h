// Statistics of the pipeline's own work (collector/pipeline.h): handing record batches from the
// reader thread to the correlator thread, and the correlator's parsing of records. Lists as in
// base/stats.h.
#pragma once

#include "base/stats.h"

namespace aurelay::collector {

// Written by the reader thread, except ring_depth, which the correlator also sets when it takes
// a batch (a gauge: the last store wins).
// clang-format off
#define AURELAY_RECORD_RING_STATS(COUNTER, GAUGE)                                                 \
  COUNTER(record_batches_handed_over, "record batches handed over", "Record batches the reader passed to the correlator") \
  COUNTER(ring_full_waits, "ring full waits", "Times the reader waited for the correlator (queue_full_action=block)") \
  COUNTER(ring_full_dropped, "ring full records dropped", "Records dropped because the ring was full (queue_full_action=drop)") \
  GAUGE(ring_depth, "ring depth", "Record batches waiting for the correlator")                 \
  GAUGE(ring_max_depth, "ring max depth", "Most record batches ever waiting for the correlator")

// Written by the correlator thread.
#define AURELAY_CORRELATOR_STATS(COUNTER, GAUGE)                                                  \
  COUNTER(correlator_waits, "correlator waits", "Times the correlator waited for records or its next timer") \
  COUNTER(records_parsed, "records parsed", "Audit records parsed")                            \
  COUNTER(parse_errors, "record parse errors", "Malformed audit records skipped")                        \
  COUNTER(events_filtered_key, "events filtered by key", "Events filter_keys took (dropped, or written to filter_file)") \
  COUNTER(events_filtered_syscall, "events filtered by syscall", "Events filter_syscalls took") \
  COUNTER(events_filtered_exe, "events filtered by exe", "Events filter_exe took") \
  COUNTER(events_filtered_uid, "events filtered by uid", "Events filter_uids took")           \
  GAUGE(first_serial, "first serial", "Serial of the first record read since start")           \
  GAUGE(last_serial, "last serial", "Serial of the last record read")
// clang-format on

struct RecordRingStats {
  AURELAY_STATS_MEMBERS(AURELAY_RECORD_RING_STATS)
};

struct CorrelatorStats {
  AURELAY_STATS_MEMBERS(AURELAY_CORRELATOR_STATS)
};

}  // namespace aurelay::collector
