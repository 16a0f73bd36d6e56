// The metrics in the Prometheus text exposition format (version 0.0.4), for node_exporter's
// textfile collector: every metric of AURELAY_METRICS as aurelay_<name> (counters end in
// _total) with # HELP and # TYPE, plus aurelay_info{version="..."} 1 and the start time.
#pragma once

#include <ctime>
#include <string>

#include "base/result.h"
#include "collector/telemetry/metrics.h"

namespace aurelay::collector {

struct PrometheusSnapshot {
  const Metrics* metrics = nullptr;  // required
  std::string version;               // e.g. AURELAY_VERSION
  std::time_t started = 0;           // process start (wall clock)
};

// The exposition's text (exposed for tests).
std::string render_prometheus(const PrometheusSnapshot& snapshot);

// The family a metric belongs to in the exposition: aurelay_<name>, and _total for a counter;
// the events_filtered_<filter> counters are one family, aurelay_events_filtered_total.
std::string prometheus_name(const MetricDescriptor& metric);
// Its sample: the family's name, with {filter="<filter>"} in that family.
std::string prometheus_sample(const MetricDescriptor& metric);
// Its family's help text.
std::string_view prometheus_help(const MetricDescriptor& metric);

// Writes render_prometheus() to `path` atomically (temp file in the same directory, which
// node_exporter ignores as it does not end in .prom, then rename). Mode 0644: node_exporter runs
// as another user.
Status write_prometheus_file(const std::string& path, const PrometheusSnapshot& snapshot);

}  // namespace aurelay::collector
