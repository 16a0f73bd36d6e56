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

#include "auditlog/audit_log.h"
#include "base/stats.h"
#include "collector/telemetry/kernel_stats.h"
#include "collector/telemetry/pipeline_stats.h"
#include "correlate/event_assembler.h"
#include "correlate/process_context.h"
#include "correlate/process_table.h"
#include "mozdef/encoder.h"
#include "netlink/audit_socket.h"
#include "output/output_stats.h"

namespace aurelay::collector {

// Every metric, in state-file order: each component's list (the header that declares it).
#define AURELAY_METRICS(COUNTER, GAUGE)                                                            \
  AURELAY_KERNEL_STATS(COUNTER, GAUGE)      /* collector/telemetry/kernel_stats.h (main thread) */ \
  AURELAY_RULES_STATS(COUNTER, GAUGE)       /* collector/telemetry/kernel_stats.h (main thread) */ \
  AURELAY_RECEIVE_STATS(COUNTER, GAUGE)     /* netlink/audit_socket.h (reader) */                  \
  AURELAY_RECORD_RING_STATS(COUNTER, GAUGE) /* collector/pipeline_stats.h (reader) */              \
  AURELAY_PROCESS_CONTEXT_STATS(COUNTER, GAUGE) /* correlate/process_context.h (reader) */         \
  AURELAY_CORRELATOR_STATS(COUNTER, GAUGE)      /* collector/pipeline_stats.h (correlator) */      \
  AURELAY_ASSEMBLER_STATS(COUNTER, GAUGE)       /* correlate/event_assembler.h (correlator) */     \
  AURELAY_ENCODER_STATS(COUNTER, GAUGE)         /* mozdef/encoder.h (correlator) */                \
  AURELAY_PROCESS_TABLE_STATS(COUNTER, GAUGE)   /* correlate/process_table.h (correlator) */       \
  AURELAY_OUTPUT_STATS(COUNTER, GAUGE)          /* output/output_stats.h (shipper) */              \
  AURELAY_AUDIT_LOG_STATS(COUNTER, GAUGE)       /* auditlog/audit_log.h (correlator) */

// The concatenation: one part per list, each the struct its component writes (a member name
// appears in one list only, so metrics.<name> is unambiguous).
struct Metrics : KernelStats,
                 RulesStats,
                 netlink::ReceiveStats,
                 RecordRingStats,
                 correlate::ProcessContextStats,
                 CorrelatorStats,
                 correlate::AssemblerStats,
                 mozdef::EncoderStats,
                 correlate::ProcessTableStats,
                 output::OutputStats,
                 auditlog::AuditLogStats {};

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
