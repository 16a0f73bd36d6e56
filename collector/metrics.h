// Counters and gauges of every stage, published by the thread that owns each stage and read by
// the main thread (state file, Prometheus file, exit summary) and tests. Writers use relaxed
// stores of their own plain counters.
//
// AURELAY_METRICS is the one list of them: each entry makes a member of Metrics, a line of the
// state file (its label, kept stable: operators and tests read it) and a Prometheus metric
// (aurelay_<name>, counters with _total). To add one: a line here, and the store that publishes
// it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aurelay::collector {

// COUNTER(name, "state file label", "help") / GAUGE(...), in state-file order.
// clang-format off
#define AURELAY_METRICS(COUNTER, GAUGE)                                                           \
  /* kernel (AUDIT_GET, polled by the main thread) */                                            \
  GAUGE(kernel_enabled, "kernel enabled", "Kernel audit enabled flag (0 off, 1 on, 2 locked, -1 unknown)") \
  GAUGE(kernel_audit_pid, "kernel audit pid", "Process the kernel sends audit records to (-1 unknown)") \
  COUNTER(kernel_lost, "kernel lost", "Audit records the kernel lost since start (backlog or rate limit)") \
  GAUGE(kernel_backlog, "kernel backlog", "Audit records waiting in the kernel backlog")        \
  GAUGE(kernel_backlog_limit, "kernel backlog limit", "Kernel audit backlog limit")             \
  /* rules_file (set once at start by the main thread) */                                        \
  GAUGE(rules_loaded, "rules loaded", "Audit rules the rules file added to the kernel")         \
  GAUGE(rules_failed_lines, "rules failed lines", "Lines of the rules file auditctl could not load") \
  /* reader */                                                                                   \
  COUNTER(records_received, "records received", "Audit records read from the input")           \
  COUNTER(bytes_received, "bytes received", "Bytes of audit records read from the input")      \
  COUNTER(receive_enobufs, "receive ENOBUFS", "Netlink socket overruns (the kernel dropped records)") \
  COUNTER(records_truncated, "records truncated", "Records cut short or too long for a receive slot") \
  COUNTER(replace_probes_ignored, "replace probes ignored", "AUDIT_REPLACE probes ignored by the reader") \
  COUNTER(netlink_datagrams, "netlink datagrams received", "Netlink datagrams received, records or not") \
  COUNTER(netlink_non_records, "netlink non-record messages ignored", "Netlink acks and replies on the data socket") \
  COUNTER(netlink_malformed, "netlink malformed messages", "Netlink messages shorter than a header (dropped)") \
  COUNTER(netlink_foreign_sender, "netlink foreign sender messages", "Netlink messages not sent by the kernel (dropped)") \
  COUNTER(receive_errors, "receive errors", "Input receive errors other than ENOBUFS")          \
  COUNTER(netlink_reads, "netlink reads", "recvmmsg calls on the audit socket (records per read: records received / (reads - empty reads))") \
  COUNTER(netlink_empty_reads, "netlink empty reads", "recvmmsg calls that found the audit socket empty") \
  COUNTER(reader_waits, "reader waits", "Times the reader slept: for the first record, or letting more records queue behind it") \
  COUNTER(record_batches_handed_over, "record batches handed over", "Record batches the reader passed to the correlator") \
  COUNTER(ring_full_waits, "ring full waits", "Times the reader waited for the correlator (queue_full_action=block)") \
  COUNTER(ring_full_dropped, "ring full records dropped", "Records dropped because the ring was full (queue_full_action=drop)") \
  GAUGE(ring_depth, "ring depth", "Record batches waiting for the correlator")                 \
  GAUGE(ring_max_depth, "ring max depth", "Most record batches ever waiting for the correlator") \
  /* correlator */                                                                               \
  COUNTER(correlator_waits, "correlator waits", "Times the correlator waited for records or its next timer") \
  COUNTER(records_parsed, "records parsed", "Audit records parsed")                            \
  COUNTER(parse_errors, "record parse errors", "Malformed audit records skipped")              \
  COUNTER(correlator_replace_ignored, "replace records ignored by correlator", "AUDIT_REPLACE records dropped by the correlator") \
  COUNTER(events_completed, "events completed", "Events completed, all reasons")               \
  COUNTER(events_by_eoe, "events completed by EOE", "Events completed by their EOE record")    \
  COUNTER(events_by_terminal, "events completed by terminal record", "Events completed by a record that ends its event") \
  COUNTER(events_timed_out, "events timed out", "Events completed by eoe_timeout_ms")          \
  COUNTER(events_evicted, "events evicted (too many in flight)", "Events completed early because too many were in flight") \
  COUNTER(events_at_end_of_input, "events completed at end of input", "Events completed because the input ended") \
  COUNTER(late_records, "late records", "Records for an event already emitted (sent as continuations)") \
  COUNTER(late_eoe, "late EOE records", "EOE records for an event already emitted")            \
  COUNTER(orphan_eoe, "orphan EOE records", "EOE records for an event never seen")             \
  COUNTER(continuation_events, "continuation events", "Events of records that came after their event was emitted") \
  GAUGE(events_in_flight, "events in flight", "Events waiting for more records")               \
  COUNTER(documents_encoded, "documents encoded", "MozDef documents encoded")                  \
  COUNTER(continuation_documents, "continuation documents", "Documents of continuation events") \
  COUNTER(values_truncated, "values truncated", "Values cut to max_value_bytes")               \
  COUNTER(invalid_utf8_fixed, "values with invalid UTF-8 escaped", "Values whose invalid UTF-8 bytes were escaped") \
  COUNTER(extra_fields, "fields kept in extra", "Fields kept in details.extra")                \
  COUNTER(unknown_syscalls, "unknown syscalls", "SYSCALL records whose number has no name")     \
  COUNTER(id_lookups, "uid/gid name lookups", "User and group name lookups (id cache misses)")  \
  COUNTER(parent_known, "parent process known", "Events whose parent was in the process table") \
  COUNTER(parent_unknown, "parent process unknown", "Events whose parent was unknown")         \
  COUNTER(parent_proc_reads, "parent process /proc reads", "Reads of /proc/PPID/comm for parents not yet seen") \
  COUNTER(process_table_evictions, "process table evictions", "Process table entries evicted") \
  /* output */                                                                                   \
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

using Counter = std::atomic<std::uint64_t>;
using Gauge = std::atomic<std::int64_t>;

struct Metrics {
#define AURELAY_METRIC_MEMBER_COUNTER(name, label, help) Counter name{0};
#define AURELAY_METRIC_MEMBER_GAUGE(name, label, help) Gauge name{0};
  AURELAY_METRICS(AURELAY_METRIC_MEMBER_COUNTER, AURELAY_METRIC_MEMBER_GAUGE)
#undef AURELAY_METRIC_MEMBER_COUNTER
#undef AURELAY_METRIC_MEMBER_GAUGE

  Metrics() {
    // Unknown until the kernel is asked (and never, when replaying a file).
    kernel_enabled.store(-1, std::memory_order_relaxed);
    kernel_audit_pid.store(-1, std::memory_order_relaxed);
    amqp_current_broker.store(-1, std::memory_order_relaxed);
  }
};

enum class MetricType : std::uint8_t { counter, gauge };

struct MetricDescriptor {
  std::string_view name;   // C++ member; Prometheus aurelay_<name>
  std::string_view label;  // state file key
  std::string_view help;
  MetricType type;
};

inline constexpr std::array kMetricDescriptors = {
#define AURELAY_METRIC_DESCRIBE_COUNTER(name, label, help) \
  MetricDescriptor{#name, label, help, MetricType::counter},
#define AURELAY_METRIC_DESCRIBE_GAUGE(name, label, help) \
  MetricDescriptor{#name, label, help, MetricType::gauge},
    AURELAY_METRICS(AURELAY_METRIC_DESCRIBE_COUNTER, AURELAY_METRIC_DESCRIBE_GAUGE)
#undef AURELAY_METRIC_DESCRIBE_COUNTER
#undef AURELAY_METRIC_DESCRIBE_GAUGE
};

// Calls visit(descriptor, member) for every metric in list order; `member` is the atomic (const
// when `metrics` is), e.g. visit_metrics(m, [](const MetricDescriptor& d, const auto& v) {...}).
template <typename MetricsT, typename Visitor>
void visit_metrics(MetricsT& metrics, Visitor&& visit) {
  std::size_t index = 0;
#define AURELAY_METRIC_VISIT(name, label, help) visit(kMetricDescriptors[index++], metrics.name);
  AURELAY_METRICS(AURELAY_METRIC_VISIT, AURELAY_METRIC_VISIT)
#undef AURELAY_METRIC_VISIT
}

}  // namespace aurelay::collector
