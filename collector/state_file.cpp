#include "collector/state_file.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "output/amqp_publisher.h"
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
  std::string_view rest(urls);
  for (std::int64_t i = 0; !rest.empty(); ++i) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty())
      --i;
    else if (i == index)
      return output::without_credentials(item);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return "#" + std::to_string(index);
}

bool fail(std::string& error, const std::string& what, const std::string& path) {
  error = what + " " + path + ": " + std::strerror(errno);
  return false;
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
  line(out, "output", output::without_credentials(snapshot.output));

  // kernel (AUDIT_GET)
  line(out, "kernel enabled", m.kernel_enabled);
  line(out, "kernel audit pid", m.kernel_pid);
  line(out, "kernel lost", m.kernel_lost);
  line(out, "kernel backlog", m.kernel_backlog);
  line(out, "kernel backlog limit", m.kernel_backlog_limit);
  line(out, "rules loaded", m.rules_loaded);
  line(out, "rules failed lines", m.rules_failed_lines);

  // reader
  line(out, "records received", m.records_received);
  line(out, "bytes received", m.bytes_received);
  line(out, "receive ENOBUFS", m.enobufs);
  line(out, "records truncated", m.truncated);
  line(out, "replace probes ignored", m.replace_probes);
  line(out, "ring full waits", m.ring_full_waits);
  line(out, "ring full records dropped", m.ring_full_dropped);
  line(out, "ring depth", m.ring_depth);
  line(out, "ring max depth", m.ring_max_depth);

  // correlator
  line(out, "records parsed", m.records_parsed);
  line(out, "record parse errors", m.parse_errors);
  line(out, "events completed", m.events_completed);
  line(out, "events completed by EOE", m.events_by_eoe);
  line(out, "events completed by terminal record", m.events_by_terminal);
  line(out, "events timed out", m.events_timed_out);
  line(out, "events evicted (too many in flight)", m.events_evicted);
  line(out, "late records", m.late_records);
  line(out, "continuation events", m.continuation_events);
  line(out, "events in flight", m.events_in_flight);
  line(out, "documents encoded", m.documents_encoded);
  line(out, "documents failed to encode", m.encode_failed);
  line(out, "values truncated", m.values_truncated);
  line(out, "fields kept in extra", m.extra_fields);
  line(out, "parent process known", m.parent_known);
  line(out, "parent process unknown", m.parent_unknown);
  line(out, "parent process /proc reads", m.parent_proc_reads);
  line(out, "process table evictions", m.process_table_evictions);

  // output
  line(out, "output queued documents", m.output_queued);
  line(out, "output batches in flight", m.batches_in_flight);
  line(out, "spool bytes", m.spool_bytes);
  line(out, "spool segments", m.spool_segments);
  line(out, "documents delivered", m.delivered);
  line(out, "batches retried", m.retried);
  line(out, "documents rejected", m.rejected);
  line(out, "documents dropped spool full", m.dropped_spool_full);
  line(out, "documents dropped output", m.dropped_output);
  line(out, "last HTTP status", m.last_http_status);
  line(out, "delivery latency p50 ms", m.latency_p50_ms);
  line(out, "delivery latency p99 ms", m.latency_p99_ms);
  if (output::is_amqp_url(snapshot.output)) {
    line(out, "amqp messages published", m.amqp_published);
    line(out, "amqp messages confirmed", m.amqp_confirmed);
    line(out, "amqp messages nacked", m.amqp_nacked);
    line(out, "amqp messages returned", m.amqp_returned);
    line(out, "amqp messages in flight", m.amqp_in_flight);
    line(out, "amqp reconnects", m.amqp_reconnects);
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

bool write_state_file(const std::string& path, const StateSnapshot& snapshot, std::string& error) {
  if (snapshot.metrics == nullptr) {
    error = "state file: no metrics";
    return false;
  }
  const std::filesystem::path target(path);
  const std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::exists(directory, ec)) {
    std::filesystem::create_directories(directory, ec);
    if (ec) {
      error = "cannot create directory " + directory.string() + ": " + ec.message();
      return false;
    }
    ::chmod(directory.c_str(), 0750);
  }
  const std::string text = render_state(snapshot);
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return fail(error, "cannot create temporary file for", path);
  bool ok = ::fchmod(fd, 0640) == 0;
  std::size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      ok = false;
    else
      written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(temp.c_str());
    errno = saved_errno;
    return fail(error, "cannot write", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temp.c_str());
    errno = rename_errno;
    return fail(error, "cannot rename state file to", path);
  }
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

}  // namespace aurelay::collector
