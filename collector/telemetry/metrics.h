// Counters and gauges of every stage, written by the component that counts them (from the one
// thread that owns it) and read by the main thread (state file, Prometheus file, exit summary)
// and tests.
//
// Each component declares its statistics as one list in its own header (base/stats.h says
// how); AURELAY_METRICS is their concatenation and Metrics holds one struct of each, so a
// component is handed its part of Metrics and writes it directly. Each entry makes a member of
// Metrics, a line of the state file (its label, kept stable: operators and tests read it) and a
// Prometheus metric (aurelay_<name>, counters with _total). To add one: a line in its
// component's list, and the increment.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/stats.h"
#include "collector/telemetry/kernel_stats.h"
#include "collector/telemetry/pipeline_stats.h"
#include "correlate/event_assembler.h"
#include "correlate/process_table.h"
#include "mozdef/encoder.h"
#include "netlink/audit_socket.h"

namespace aurelay::collector {

// The output's statistics, published by the shipper thread from its sink's (SinkStats).
// COUNTER(name, "state file label", "help") / GAUGE(...), in state-file order.
// clang-format off
#define AURELAY_OUTPUT_METRICS(COUNTER, GAUGE)                                                    \
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

struct OutputMetrics {
  AURELAY_STATS_MEMBERS(AURELAY_OUTPUT_METRICS)

  OutputMetrics() { set(amqp_current_broker, -1); }  // no broker yet
};

// Every metric, in state-file order: each component's list (the header that declares it).
#define AURELAY_METRICS(COUNTER, GAUGE)                                                            \
  AURELAY_KERNEL_STATS(COUNTER, GAUGE)      /* collector/telemetry/kernel_stats.h (main thread) */ \
  AURELAY_RULES_STATS(COUNTER, GAUGE)       /* collector/telemetry/kernel_stats.h (main thread) */ \
  AURELAY_RECEIVE_STATS(COUNTER, GAUGE)     /* netlink/audit_socket.h (reader) */                  \
  AURELAY_RECORD_RING_STATS(COUNTER, GAUGE) /* collector/pipeline_stats.h (reader) */              \
  AURELAY_CORRELATOR_STATS(COUNTER, GAUGE)  /* collector/pipeline_stats.h (correlator) */          \
  AURELAY_ASSEMBLER_STATS(COUNTER, GAUGE)   /* correlate/event_assembler.h (correlator) */         \
  AURELAY_ENCODER_STATS(COUNTER, GAUGE)     /* mozdef/encoder.h (correlator) */                    \
  AURELAY_PROCESS_TABLE_STATS(COUNTER, GAUGE) /* correlate/process_table.h (correlator) */         \
  AURELAY_OUTPUT_METRICS(COUNTER, GAUGE)      /* above (shipper) */

// The concatenation: one part per list, each the struct its component writes (a member name
// appears in one list only, so metrics.<name> is unambiguous).
struct Metrics : KernelStats,
                 RulesStats,
                 netlink::ReceiveStats,
                 RecordRingStats,
                 CorrelatorStats,
                 correlate::AssemblerStats,
                 mozdef::EncoderStats,
                 correlate::ProcessTableStats,
                 OutputMetrics {};

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
