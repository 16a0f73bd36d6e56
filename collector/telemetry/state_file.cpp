#include "collector/telemetry/state_file.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "base/atomic_file.h"
#include "output/amqp/amqp_publisher.h"
#include "output/url_credentials.h"

namespace aurelay::collector {

namespace {

void line(std::string& out, std::string_view key, const std::string& value) {
  out.append(key);
  out += " = ";
  out += value;
  out += '\n';
}

template <typename T>
void line(std::string& out, std::string_view key, const std::atomic<T>& value) {
  line(out, key, std::to_string(value.load(std::memory_order_relaxed)));
}

std::string format_time(std::time_t when) {
  struct tm parts {};
  localtime_r(&when, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%m/%d/%y %H:%M:%S", &parts);
  return text;
}

// The broker `index` of a comma-separated amqp_url list, without credentials.
std::string broker_at(const std::string& urls, std::int64_t index) {
  if (index < 0) return "none";
  const std::vector<std::string_view> items = output::split_amqp_url_list(urls);
  if (static_cast<std::size_t>(index) >= items.size()) return "#" + std::to_string(index);
  return output::redact_url_credentials(items[static_cast<std::size_t>(index)]);
}

}  // namespace

std::string render_state(const StateSnapshot& snapshot) {
  const Metrics& m = *snapshot.metrics;
  const std::time_t now = snapshot.now != 0 ? snapshot.now : std::time(nullptr);
  std::string out;
  out.reserve(4096);
  line(out, "audit version", "aurelay " + snapshot.version);
  line(out, "current time", format_time(now));
  line(out, "start time", format_time(snapshot.started));
  line(out, "uptime seconds", std::to_string(snapshot.started != 0 ? now - snapshot.started : 0));
  errno = 0;
  const int priority = ::getpriority(PRIO_PROCESS, 0);
  line(out, "process priority", std::to_string(errno == 0 ? priority : 0));
  line(out, "process id", std::to_string(::getpid()));
  line(out, "config file", snapshot.config_file.empty() ? "none (defaults)" : snapshot.config_file);
  line(out, "input", snapshot.input);
  line(out, "output", output::redact_url_credentials(snapshot.output));

  // Every metric, in list order (collector/telemetry/metrics.h).
  visit_metrics(m, [&](const MetricDescriptor& metric, const auto& value) {
    line(out, metric.label, value);
  });
  if (output::is_amqp_url(snapshot.output)) {
    line(out, "amqp current broker",
         broker_at(snapshot.output, m.amqp_current_broker.load(std::memory_order_relaxed)));
  }

  // glibc, as auditd reports it
  const struct mallinfo2 info = ::mallinfo2();
  line(out, "glibc arena (total memory) is", std::to_string(info.arena / 1024) + " KiB");
  line(out, "glibc uordblks (total allocated memory) is",
       std::to_string(info.uordblks / 1024) + " KiB");
  line(out, "glibc fordblks (total free space) is", std::to_string(info.fordblks / 1024) + " KiB");
  return out;
}

Status write_state_file(const std::string& path, const StateSnapshot& snapshot) {
  if (snapshot.metrics == nullptr) return fail("state file: no metrics");
  return write_file_atomically(path, render_state(snapshot), 0640, 0750);
}

}  // namespace aurelay::collector
