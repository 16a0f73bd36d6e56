// The output's counters and gauges: one list for the output side (the sink the shipper thread
// owns: the delivery engine with its spool, its transport, or the file output). Each writes its
// own entries directly, from the shipper thread; the daemon hands the sink its part of Metrics.
// COUNTER(name, "state file label", "help") / GAUGE(...), in state-file order. Who writes:
//   engine (output/delivery_engine.cpp): documents_*, batches_*, rejected_splits, dead letter,
//     spool and latency entries, documents_in_flight, output_batches_in_flight, output_stalls;
//   HTTP transport: output_requests, output_transport_errors, last_http_status;
//   AMQP transport: amqp_*;
//   file output: documents_delivered, batches_retried and output_bytes_written, _write_errors,
//     _reopens;
//   the collector's shipper: output_queued_documents (its ring plus the sink's memory) and
//     documents_dropped_output for what a stop with the output failing loses.
#pragma once

#include "base/stats.h"

namespace aurelay::output {

// clang-format off
#define AURELAY_OUTPUT_STATS(COUNTER, GAUGE)                                                    \
  GAUGE(output_queued_documents, "output queued documents", "Documents waiting in memory for the output") \
  GAUGE(output_batches_in_flight, "output batches in flight", "Output batches being sent")     \
  GAUGE(documents_in_flight, "documents in flight", "Documents handed to the transport and not answered yet") \
  GAUGE(spool_documents, "spool documents", "Documents in the spool, not in memory or in flight") \
  GAUGE(spool_bytes, "spool bytes", "Bytes in the spool")                                      \
  GAUGE(spool_segments, "spool segments", "Segment files in the spool")                        \
  COUNTER(documents_delivered, "documents delivered", "Documents written or acknowledged by the output") \
  COUNTER(batches_delivered, "batches delivered", "Batches acknowledged by the output")        \
  COUNTER(output_bytes_written, "output bytes written", "Bytes written to the output file")    \
  COUNTER(output_requests, "HTTP requests", "HTTP requests finished, any outcome")             \
  COUNTER(output_transport_errors, "HTTP transport errors", "HTTP requests without an answer (refused, timeout, TLS)") \
  COUNTER(batches_retried, "batches retried", "Failed output attempts that will be retried")   \
  COUNTER(documents_retried, "documents retried", "Documents of failed attempts that will be retried") \
  COUNTER(output_write_errors, "output write errors", "Errors writing the output file")         \
  COUNTER(output_reopens, "output reopens", "Times the output file was reopened")              \
  COUNTER(documents_rejected, "documents rejected", "Documents refused for good by the output (HTTP 4xx)") \
  COUNTER(rejected_splits, "rejected batches split", "Rejected batches split in halves to isolate documents") \
  COUNTER(documents_dead_lettered, "documents dead-lettered", "Rejected documents written to dead_letter_file") \
  COUNTER(dead_letter_errors, "dead letter write errors", "Errors writing dead_letter_file")   \
  COUNTER(documents_spooled, "documents spooled", "Documents written to the spool")            \
  COUNTER(documents_unspooled, "documents read from spool", "Documents read back from the spool") \
  COUNTER(spool_corrupt_records, "spool corrupt records", "Corrupt spool records skipped")      \
  COUNTER(spool_corrupt_bytes, "spool corrupt bytes", "Spool bytes skipped after corrupt records") \
  COUNTER(spool_write_errors, "spool write errors", "Errors writing the spool")                \
  COUNTER(documents_dropped_spool_full, "documents dropped spool full", "Documents dropped because the spool was full") \
  COUNTER(documents_dropped_queue_full, "documents dropped queue full", "Documents dropped because memory was full and there is no spool") \
  COUNTER(documents_dropped_rejected, "documents dropped rejected", "Rejected documents not written to dead_letter_file") \
  COUNTER(documents_dropped_output, "documents dropped output", "Documents lost by the output, all reasons") \
  COUNTER(output_stalls, "output stalls", "Times the destination stalled (an answer overdue 2 s, or the broker blocked the connection)") \
  GAUGE(last_http_status, "last HTTP status", "Status of the last HTTP answer (0 none)")       \
  GAUGE(delivery_latency_p50_ms, "delivery latency p50 ms", "Median event-to-delivery latency of recent batches, ms") \
  GAUGE(delivery_latency_p99_ms, "delivery latency p99 ms", "99th percentile event-to-delivery latency of recent batches, ms") \
  /* AMQP output (publisher confirms) */                                                         \
  COUNTER(amqp_published, "amqp messages published", "Messages published to the broker")       \
  COUNTER(amqp_confirmed, "amqp messages confirmed", "Messages the broker acknowledged (delivered)") \
  COUNTER(amqp_nacked, "amqp messages nacked", "Messages the broker refused (sent again)")      \
  COUNTER(amqp_returned, "amqp messages returned", "Messages no queue took (returned; sent again)") \
  GAUGE(amqp_in_flight, "amqp messages in flight", "Messages published and not yet confirmed")  \
  COUNTER(amqp_reconnects, "amqp reconnects", "Connections to a broker opened after the first") \
  GAUGE(amqp_current_broker, "amqp current broker index", "Index in amqp_url's list of the broker in use (-1 none)")
// clang-format on

struct OutputStats {
  AURELAY_STATS_MEMBERS(AURELAY_OUTPUT_STATS)

  OutputStats() { set(amqp_current_broker, -1); }  // no broker yet
};

}  // namespace aurelay::output
