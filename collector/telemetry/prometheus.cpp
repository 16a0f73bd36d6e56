#include "collector/telemetry/prometheus.h"

#include <string_view>

#include "base/atomic_file.h"

namespace aurelay::collector {
namespace {

// HELP text escapes backslash and line feed; a label value also escapes the double quote.
void append_escaped(std::string& out, std::string_view text, bool label_value) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && label_value)
      out += "\\\"";
    else
      out += c;
  }
}

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

namespace {

// Counters of one family, written as one metric with a label: events_filtered_<filter> is
// aurelay_events_filtered_total{filter="<filter>"}.
constexpr std::string_view kFilteredFamily = "events_filtered_";
constexpr std::string_view kFilteredHelp =
    "Events the filters took before encoding (dropped, or written to filter_file), by filter";

}  // namespace

std::string prometheus_name(const MetricDescriptor& metric) {
  if (metric.name.starts_with(kFilteredFamily)) return "aurelay_events_filtered_total";
  std::string name = "aurelay_";
  name += metric.name;
  if (metric.type == MetricType::counter) name += "_total";
  return name;
}

std::string prometheus_sample(const MetricDescriptor& metric) {
  std::string sample = prometheus_name(metric);
  if (metric.name.starts_with(kFilteredFamily)) {
    sample += "{filter=\"";
    sample += metric.name.substr(kFilteredFamily.size());
    sample += "\"}";
  }
  return sample;
}

std::string_view prometheus_help(const MetricDescriptor& metric) {
  return metric.name.starts_with(kFilteredFamily) ? kFilteredHelp : metric.help;
}

std::string render_prometheus(const PrometheusSnapshot& snapshot) {
  std::string out;
  out.reserve(16384);
  header(out, "aurelay_info", "aurelay version (always 1)", "gauge");
  out += "aurelay_info{version=\"";
  append_escaped(out, snapshot.version, true);
  out += "\"} 1\n";
  header(out, "aurelay_start_time_seconds", "Start time of the process since the Unix epoch",
         "gauge");
  out += "aurelay_start_time_seconds " + std::to_string(snapshot.started) + '\n';
  std::string last_family;
  visit_metrics(*snapshot.metrics, [&](const MetricDescriptor& metric, const auto& value) {
    const std::string name = prometheus_name(metric);
    if (name != last_family) {
      header(out, name, prometheus_help(metric),
             metric.type == MetricType::counter ? "counter" : "gauge");
      last_family = name;
    }
    out += prometheus_sample(metric);
    out += ' ';
    out += std::to_string(value.load(std::memory_order_relaxed));
    out += '\n';
  });
  return out;
}

Status write_prometheus_file(const std::string& path, const PrometheusSnapshot& snapshot) {
  if (snapshot.metrics == nullptr) return fail("metrics file: no metrics");
  return write_file_atomically(path, render_prometheus(snapshot), 0644, 0755);
}

}  // namespace aurelay::collector
