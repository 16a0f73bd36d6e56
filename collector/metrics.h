// Counters of every stage, published by the thread that owns each stage and read by the main
// thread (state file) and tests. Writers use relaxed stores of their own plain counters.
#pragma once

#include <atomic>
#include <cstdint>

namespace aurelay::collector {

using Counter = std::atomic<std::uint64_t>;
using Gauge = std::atomic<std::int64_t>;

struct Metrics {
  // reader
  Counter records_received{0};
  Counter bytes_received{0};
  Counter enobufs{0};
  Counter truncated{0};
  Counter replace_probes{0};
  Counter ring_full_waits{0};    // queue_full_action=block: times the reader waited
  Counter ring_full_dropped{0};  // queue_full_action=drop: records dropped
  Gauge ring_depth{0};
  Gauge ring_max_depth{0};

  // correlator
  Counter records_parsed{0};
  Counter parse_errors{0};
  Counter events_completed{0};
  Counter events_by_eoe{0};
  Counter events_by_terminal{0};
  Counter events_timed_out{0};
  Counter events_evicted{0};
  Counter late_records{0};
  Counter continuation_events{0};  // events of records that came after their id was emitted
  Gauge events_in_flight{0};
  Counter documents_encoded{0};
  Counter encode_failed{0};
  Counter values_truncated{0};   // values cut to max_value_bytes
  Counter extra_fields{0};       // fields kept in details.extra
  Counter parent_known{0};       // events whose parent was in the process table
  Counter parent_unknown{0};     // events whose parent was not (no parentprocess)
  Counter parent_proc_reads{0};  // /proc/PPID/comm reads for parents not yet seen
  Counter process_table_evictions{0};

  // shipper / output
  Gauge output_queued{0};  // documents waiting in memory
  Gauge batches_in_flight{0};
  Gauge spool_bytes{0};
  Gauge spool_segments{0};
  Counter delivered{0};
  Counter retried{0};
  Counter rejected{0};
  Counter dropped_spool_full{0};
  Counter dropped_output{0};
  Gauge last_http_status{0};
  Gauge latency_p50_ms{0};
  Gauge latency_p99_ms{0};
  // AMQP output (publisher confirms), documents
  Counter amqp_published{0};
  Counter amqp_confirmed{0};
  Counter amqp_nacked{0};
  Counter amqp_returned{0};
  Gauge amqp_in_flight{0};
  Counter amqp_reconnects{0};
  Gauge amqp_current_broker{-1};  // index in amqp_url's list, -1 = not connected

  // kernel (AUDIT_GET, polled by the main thread)
  Gauge kernel_enabled{-1};
  Gauge kernel_pid{-1};
  Counter kernel_lost{0};  // sum of deltas since start, surviving resets
  Gauge kernel_backlog{0};
  Gauge kernel_backlog_limit{0};

  // rules_file (set once at start by the main thread)
  Counter rules_loaded{0};        // rules the file added to the kernel
  Counter rules_failed_lines{0};  // its lines auditctl could not load (ignored after -i)
};

}  // namespace aurelay::collector
