#include "collector/daemon.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

#include "base/rate_limited_log.h"
#include "collector/kernel_lock.h"
#include "collector/loaded_rules.h"
#include "collector/log_file_source.h"
#include "collector/netlink_source.h"
#include "collector/pipeline.h"
#include "collector/privileges.h"
#include "collector/restart_gap.h"
#include "collector/startup_steps.h"
#include "collector/telemetry/metrics.h"
#include "collector/telemetry/prometheus.h"
#include "collector/telemetry/state_file.h"
#include "collector/written_directories.h"
#include "netlink/audit_control.h"
#include "output/amqp/amqp_sink.h"
#include "output/file/file_sink.h"
#include "output/http/bulk_format.h"
#include "output/http/http_sink.h"
#include "output/url_credentials.h"

namespace aurelay::collector {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kKernelPollInterval = std::chrono::seconds(5);
constexpr int kMainLoopTickMs = 200;

bool is_live_input(const std::string& input) { return input == "netlink" || input == "multicast"; }

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::critical:
      return spdlog::level::critical;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

void setup_logging(const Config& config) {
  LogTarget target = config.log_target;
  if (target == LogTarget::automatic)
    target = std::getenv("JOURNAL_STREAM") ? LogTarget::journal : LogTarget::stderr_stream;
  std::shared_ptr<spdlog::logger> logger;
  if (target == LogTarget::journal)
    logger = std::make_shared<spdlog::logger>(
        "aurelay", std::make_shared<spdlog::sinks::systemd_sink_mt>("aurelay"));
  else if (target == LogTarget::syslog)
    logger = std::make_shared<spdlog::logger>(
        "aurelay",
        std::make_shared<spdlog::sinks::syslog_sink_mt>("aurelay", LOG_PID, LOG_DAEMON, false));
  else
    logger = std::make_shared<spdlog::logger>(
        "aurelay", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (target == LogTarget::stderr_stream)
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z aurelay[%P] %l: %v");
  logger->set_level(spdlog_level(config.log_level));
  spdlog::set_default_logger(logger);
}

std::string local_hostname(const Config& config) {
  if (!config.pipeline.encoder.hostname.empty()) return config.pipeline.encoder.hostname;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

PipelineConfig make_pipeline_config(const Config& config) {
  PipelineConfig pipeline = config.pipeline;
  pipeline.encoder.hostname = local_hostname(config);
  // /proc is this host's only while collecting live; a replayed log is another host's past.
  pipeline.encoder.process_table.proc_fallback = is_live_input(config.input);
  pipeline.process_context = pipeline.process_context && is_live_input(config.input);
  pipeline.contexts.capacity = pipeline.encoder.process_table.capacity;
  pipeline.warn_when_ring_full = is_live_input(config.input);
  // stdin is auditd's plugin feed: records as they happen, like the kernel's.
  pipeline.live = is_live_input(config.input) || config.input == "stdin" || config.input == "-";
  return pipeline;
}

netlink::DataSocketOptions make_data_socket_options(const Config& config) {
  netlink::DataSocketOptions options = config.data_socket;
  options.mode = config.input == "multicast" ? netlink::DataSocketMode::multicast
                                             : netlink::DataSocketMode::unicast;
  return options;
}

Result<output::HttpSinkConfig> make_http_config(const Config& config, const std::string& url) {
  output::HttpSinkConfig http = config.http;
  http.url = url;
  http.tls = config.tls;
  http.delivery = config.delivery;
  // loginput's /events takes one object per POST: unset, bulk_format follows the URL
  // (validate_config refuses array and ndjson set explicitly with such a URL).
  if (!config.is_set("bulk_format") && output::is_events_url(url)) {
    http.bulk_format = output::BulkFormat::single;
  }
  spdlog::info("output: posting to {} with bulk_format {}", output::redact_url_credentials(url),
               output::bulk_format_name(http.bulk_format));
  if (!config.http_credentials_file.empty()) {
    Result<std::string> credentials = output::read_credentials_file(config.http_credentials_file);
    if (!credentials) return fail(credentials.error());
    http.credentials = std::move(credentials).value();
  }
  return http;
}

output::AmqpSinkConfig make_amqp_config(const Config& config, const std::string& urls) {
  output::AmqpSinkConfig amqp = config.amqp;
  amqp.urls = urls;
  amqp.publisher.tls = config.tls;
  amqp.delivery = config.delivery;
  spdlog::info(
      "output: publishing to {} (exchange '{}', routing key '{}', queue '{}', {}), confirm "
      "window {}",
      output::redact_url_credentials(urls), amqp.publisher.exchange, amqp.publisher.routing_key,
      amqp.publisher.queue, choice_name(output::kAmqpDeclareNames, amqp.publisher.declare),
      amqp.confirm_window);
  return amqp;
}

namespace {

// The sink counts into `stats` (the daemon's Metrics).
Result<std::unique_ptr<output::Sink>> make_sink(const Config& config, output::OutputStats& stats) {
  std::string destination = config.effective_output();
  if (output::is_amqp_url(destination)) {
    auto sink = std::make_unique<output::AmqpSink>(make_amqp_config(config, destination),
                                                   output::SteadyClock::instance(), &stats);
    if (Status opened = sink->open(); !opened) return fail(opened.error());
    return std::unique_ptr<output::Sink>(std::move(sink));
  }
  if (output::is_http_url(destination)) {
    Result<output::HttpSinkConfig> http = make_http_config(config, destination);
    if (!http) return fail(http.error());
    auto sink = std::make_unique<output::HttpSink>(std::move(http).value(),
                                                   output::SteadyClock::instance(), &stats);
    if (Status opened = sink->open(); !opened) return fail(opened.error());
    return std::unique_ptr<output::Sink>(std::move(sink));
  }
  output::FileSinkConfig file = config.file;
  file.path = destination;
  Result<std::unique_ptr<output::FileSink>> sink = output::FileSink::open(std::move(file), &stats);
  if (!sink) return fail(sink.error());
  return std::unique_ptr<output::Sink>(std::move(sink).value());
}

// Applies the kernel settings the config asks for through `guard`, which puts them back. Done
// before the rules file, whose -b, -r, -e, -f and --backlog_wait_time lines then win. A setting
// the kernel refuses with EPERM (a locked configuration) is a warning.
Status apply_configured_kernel_settings(const Config& config, netlink::KernelSettingsGuard& guard,
                                        const netlink::AuditControl& control, KernelLock& lock) {
  auto applied = [&](Status set, const char* key) -> Status {
    if (set || lock.tolerate_refusal(control.error_number(), std::string(key) + ": " + set.error()))
      return {};
    return set;
  };
  if (config.backlog_limit >= 0)
    if (Status set =
            applied(guard.set_backlog_limit(static_cast<std::uint32_t>(config.backlog_limit)),
                    "backlog_limit");
        !set)
      return set;
  if (config.backlog_wait_time >= 0)
    if (Status set = applied(
            guard.set_backlog_wait_time(static_cast<std::uint32_t>(config.backlog_wait_time)),
            "backlog_wait_time");
        !set)
      return set;
  if (config.rate_limit >= 0)
    if (Status set = applied(guard.set_rate_limit(static_cast<std::uint32_t>(config.rate_limit)),
                             "rate_limit");
        !set)
      return set;
  if (config.enabled != KernelEnabled::keep)
    if (Status set = applied(guard.set_enabled(config.enabled == KernelEnabled::enable ? 1u : 0u),
                             "enabled");
        !set)
      return set;
  return {};
}

// Polls AUDIT_GET and publishes the kernel's view (lost as a delta that survives resets).
class KernelStatusMonitor {
 public:
  KernelStatusMonitor(netlink::AuditControl& control, KernelStats& stats)
      : control_(control), stats_(stats) {}

  void poll(Clock::time_point now) {
    Result<netlink::AuditStatus> status = control_.get_status();
    if (!status) {
      warning_.warn(RateLimitedLog::steady_ms(now), "audit status: " + status.error());
      return;
    }
    std::uint64_t added = lost_.update(status->lost);
    set(stats_.kernel_enabled, status->enabled);
    set(stats_.kernel_audit_pid, status->pid);
    stats_.kernel_lost.store(lost_.total(), std::memory_order_relaxed);
    set(stats_.kernel_backlog, status->backlog);
    set(stats_.kernel_backlog_limit, status->backlog_limit);
    if (added > 0)
      lost_warning_.warn(RateLimitedLog::steady_ms(now),
                         fmt::format("the kernel lost {} audit records (total {} since start; "
                                     "backlog {}/{}, rate_limit {}/s (0 = none))",
                                     added, lost_.total(), status->backlog, status->backlog_limit,
                                     status->rate_limit));
  }

 private:
  netlink::AuditControl& control_;
  KernelStats& stats_;
  netlink::LostCounter lost_;
  RateLimitedLog warning_;
  RateLimitedLog lost_warning_;
};

class SignalChannel {
 public:
  SignalChannel() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGCONT, SIGUSR1, SIGUSR2})
      sigaddset(&signals, signal);
    // Blocked before any thread starts, so every thread inherits the mask and only the main
    // thread takes these signals, through the signalfd.
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    fd_ = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~SignalChannel() {
    if (fd_ >= 0) ::close(fd_);
  }
  SignalChannel(const SignalChannel&) = delete;
  SignalChannel& operator=(const SignalChannel&) = delete;

  struct Received {
    int number = 0;                 // 0: none
    auditlog::SignalSender sender;  // who sent it
  };
  // Waits up to `timeout_ms` for a signal, or until `wake_fd` is readable; returns the next
  // signal (number 0 when none came).
  Received next(int timeout_ms, int wake_fd) {
    signalfd_siginfo info{};
    if (::read(fd_, &info, sizeof(info)) == sizeof(info)) return received(info);
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) <= 0) return {};
    if (::read(fd_, &info, sizeof(info)) == sizeof(info)) return received(info);
    return {};
  }

 private:
  static Received received(const signalfd_siginfo& info) {
    return {static_cast<int>(info.ssi_signo),
            {static_cast<pid_t>(info.ssi_pid), static_cast<uid_t>(info.ssi_uid)}};
  }
  int fd_ = -1;
};

// SIGHUP: rereads the config file. log_level applies at once; other changed keys are named as
// needing a restart (the pipeline, sockets and kernel settings are built once). Keys given on
// the command line keep their command-line values. A bad file is reported and changes nothing.
void reload_config(const Config& running) {
  if (running.config_file.empty()) return;
  Config reread;
  Status loaded = load_config_file(running.config_file, reread);
  if (loaded && !running.auditd_conf.empty()) {
    reread.auditd_conf = running.auditd_conf;
    loaded = apply_auditd_conf(reread);
  }
  if (loaded) loaded = validate_config(reread);
  if (!loaded) {
    spdlog::error("config not reloaded: {}", loaded.error());
    return;
  }
  std::string needs_restart;
  for (const OptionSpec& spec : option_table()) {
    auto origin = running.origin.find(spec.name);
    if (origin != running.origin.end() && origin->second == "command line") continue;
    if (format_option_value(reread, spec) == format_option_value(running, spec)) continue;
    if (spec.name == "log_level") {
      spdlog::default_logger()->set_level(spdlog_level(reread.log_level));
      spdlog::info("log_level is now {}", format_option_value(reread, spec));
      continue;
    }
    needs_restart += (needs_restart.empty() ? "" : ", ") + std::string(spec.name);
  }
  if (!needs_restart.empty())
    spdlog::warn("changed in {} but only applied after a restart: {}", running.config_file,
                 needs_restart);
}

// "label value, ..." of every counter that is not 0, in list order (collector/telemetry/metrics.h).
std::string nonzero_counters(const Metrics& metrics) {
  std::string text;
  visit_metrics(metrics, [&](const MetricDescriptor& metric, const auto& value) {
    const auto number = value.load(std::memory_order_relaxed);
    if (metric.type != MetricType::counter || number == 0) return;
    if (!text.empty()) text += ", ";
    text += std::string(metric.label) + " " + std::to_string(number);
  });
  return text.empty() ? "none" : text;
}

// What the daemon reports while it runs: the kernel's view (polled while collecting live), the
// state file and the Prometheus metrics file.
class Reports {
 public:
  Reports(const Config& config, bool live, std::time_t started, netlink::AuditControl& control,
          Metrics& metrics)
      : config_(config),
        live_(live),
        state_file_wanted_(writes_state_file(config, live)),
        started_(started),
        metrics_(metrics),
        kernel_status_(control, metrics) {}

  void poll_kernel(Clock::time_point now) {
    if (live_) kernel_status_.poll(now);
  }

  void write() {
    write_state();
    write_metrics();
  }

 private:
  void write_state() {
    if (config_.state_file.empty() || !state_file_wanted_) return;
    StateSnapshot snapshot{
        &metrics_, AURELAY_VERSION, config_.config_file, config_.input, config_.effective_output(),
        started_};
    if (Status written = write_state_file(config_.state_file, snapshot); !written)
      spdlog::warn("state file: {}", written.error());
  }

  void write_metrics() {
    if (config_.metrics_file.empty()) return;
    Status written =
        write_prometheus_file(config_.metrics_file, {&metrics_, AURELAY_VERSION, started_});
    if (!written) metrics_file_warning_.warn("metrics file: " + written.error());
  }

  const Config& config_;
  const bool live_;
  const bool state_file_wanted_;
  const std::time_t started_;
  Metrics& metrics_;
  KernelStatusMonitor kernel_status_;
  RateLimitedLog metrics_file_warning_;
};

// Everything the start-up steps build, in the order they build it. The steps below are the one
// place that says what the daemon does, in which order, and how each thing is undone.
struct DaemonContext {
  explicit DaemonContext(const Config& running) : config(running) {}

  const Config& config;
  const bool live = is_live_input(config.input);
  const std::time_t started = std::time(nullptr);
  // A teardown failed (logged there): the exit code is 1 unless a step failed first (a failing
  // step's Status carries its own code).
  bool teardown_failed = false;
  Metrics metrics;
  std::optional<SignalChannel> signals;
  // The sink and the source belong to the step that opened them until the pipeline starts, and
  // to the pipeline after.
  std::unique_ptr<output::Sink> sink;
  netlink::AuditControl control;
  KernelLock kernel_lock;
  std::optional<netlink::KernelSettingsGuard> kernel_settings;
  std::unique_ptr<RecordSource> source;
  std::optional<LoadedRules> rules;
  std::optional<Reports> reports;
  // `user`'s ids, looked up once by the step that creates the directories it will write to.
  std::optional<UserIds> run_as;
  std::unique_ptr<auditlog::AuditLog> audit_log;  // the pipeline's once it starts
  std::optional<SerialFile> serial_file;          // live: the restart gap
  bool restart_gap_reported = false;
  RateLimitedLog serial_warning;
  std::unique_ptr<Pipeline> pipeline;
};

// The local audit log (write_logs), opened as root: its directory and files get auditd's modes,
// owned by `user` when privileges are dropped (it rotates them later). Writes DAEMON_START.
Status open_audit_log(DaemonContext& daemon) {
  const Config& config = daemon.config;
  if (!config.auditd_conf_ignored.empty()) {
    std::string keys;
    for (const std::string& key : config.auditd_conf_ignored)
      keys += (keys.empty() ? "" : " ") + key;
    spdlog::info("auditd_conf {}: took the local audit log's keys; ignored the others: {}",
                 config.auditd_conf, keys);
  }
  if (!config.audit_log.write_logs) return {};
  const uid_t owner = daemon.run_as ? daemon.run_as->uid : 0;
  auto log = auditlog::AuditLog::open(config.audit_log, &daemon.metrics, owner);
  if (!log) return log.failure("local audit log: ");
  daemon.audit_log = std::move(*log);
  spdlog::info("local audit log: {} (log_format {}, flush {})", config.audit_log.log_file,
               choice_name(auditlog::kLogFormatNames, config.audit_log.format),
               choice_name(auditlog::kFlushModeNames, config.audit_log.flush));
  return {};
}
// Closes the log when the pipeline never took it (a later step failed): DAEMON_END is written.
void close_audit_log(DaemonContext& daemon) {
  if (daemon.audit_log) daemon.audit_log->close({::getpid(), ::getuid()});
}

// A failing teardown makes the exit code 1, unless a step failed first (its code stays).
void note_teardown_failure(DaemonContext& daemon) { daemon.teardown_failed = true; }

// --- The steps, each with its teardown ---------------------------------------------------------

Status set_up_logging(DaemonContext& daemon) {
  setup_logging(daemon.config);
  return {};
}
// The last word, once the pipeline has run.
void log_exit_summary(DaemonContext& daemon) {
  if (!daemon.reports) return;
  const Metrics& metrics = daemon.metrics;
  spdlog::info(
      "stopped: {} records, {} events, {} documents delivered, {} parse errors, {} kernel lost",
      metrics.records_received.load(), metrics.events_completed.load(),
      metrics.documents_delivered.load(), metrics.parse_errors.load(), metrics.kernel_lost.load());
  spdlog::info("counters at exit: {}", nonzero_counters(metrics));
}

Status take_signals(DaemonContext& daemon) {
  daemon.signals.emplace();
  return {};
}
void close_signals(DaemonContext& daemon) { daemon.signals.reset(); }

// The directories of the spool, the state and metrics files, a file output and the dead
// letters, created where missing (owned by `user`, who writes there after the privilege drop).
Status create_directories(DaemonContext& daemon) {
  const Config& config = daemon.config;
  if (!config.user.empty()) {
    Result<UserIds> ids = look_up_user(config.user);
    if (!ids) return fail(kExitRuntimeFailure, "user: " + ids.error());
    daemon.run_as = *ids;
  }
  if (Status created = create_written_directories(config, daemon.live, daemon.run_as); !created)
    return fail(kExitRuntimeFailure, created.error());
  return {};
}

// Live: the previous run's last serial, and where this run keeps its own (restart_gap.h). A file
// that cannot be opened costs only the estimate: said, not fatal.
Status open_serial_file(DaemonContext& daemon) {
  if (!daemon.live || daemon.config.serial_file.empty()) return {};
  Result<SerialFile> opened = SerialFile::open(daemon.config.serial_file, current_boot_id());
  if (!opened) {
    spdlog::warn("serial_file: {} (no restart gap estimate)", opened.error());
    return {};
  }
  daemon.serial_file.emplace(std::move(opened).value());
  if (!daemon.serial_file->previous_error().empty())
    spdlog::warn("serial_file: {}", daemon.serial_file->previous_error());
  return {};
}

// Main thread, each tick and at the end: keeps the last serial read, and once the first record
// of this run is read, says how many serials the kernel handed out since the previous run's last.
void note_serials(DaemonContext& daemon) {
  if (!daemon.serial_file) return;
  if (Status saved = daemon.serial_file->save(
          static_cast<std::uint64_t>(value_of(daemon.metrics.last_serial)));
      !saved)
    daemon.serial_warning.warn("serial_file: " + saved.error());
  const auto first = static_cast<std::uint64_t>(value_of(daemon.metrics.first_serial));
  if (daemon.restart_gap_reported || first == 0) return;
  daemon.restart_gap_reported = true;
  const std::optional<SerialMark>& previous = daemon.serial_file->previous();
  if (!previous) return;
  const std::optional<std::uint64_t> skipped =
      skipped_serials(*previous, daemon.serial_file->boot_id(), first);
  if (!skipped) {
    spdlog::info("restart gap: not estimated (last serial {} from {}, first now {} on boot {})",
                 previous->serial, previous->boot_id, first, daemon.serial_file->boot_id());
    return;
  }
  increment(daemon.metrics.restart_gap_serials, *skipped);
  if (*skipped == 0) return;
  std::string kernel = "kernel status unknown";
  if (Result<netlink::AuditStatus> status = daemon.control.get_status(); status)
    kernel = fmt::format("kernel lost {}, backlog {}", status->lost, status->backlog);
  spdlog::warn(
      "restart gap: the kernel handed out {} serials between the last record of the previous run "
      "({}) and the first of this one ({}) while no audit daemon read them; their events are lost "
      "unless the kernel was booted with audit=1 and a large enough audit_backlog_limit ({})",
      *skipped, previous->serial, first, kernel);
}

// Output first: a bad destination fails before the kernel is touched.
Status open_output(DaemonContext& daemon) {
  Result<std::unique_ptr<output::Sink>> sink = make_sink(daemon.config, daemon.metrics);
  if (!sink) return fail(kExitRuntimeFailure, "output: " + sink.error());
  daemon.sink = std::move(sink).value();
  return {};
}
void close_output(DaemonContext& daemon) { daemon.sink.reset(); }

// Kernel settings go through their own socket, opened while collecting live only.
Status open_audit_control(DaemonContext& daemon) {
  if (!daemon.live) return {};
  if (Status opened = daemon.control.open(); !opened)
    return fail(kExitRuntimeFailure, "audit control socket: " + opened.error());
  return {};
}
void close_audit_control(DaemonContext& daemon) { daemon.control.close(); }

// At exit: whether the kernel's configuration is locked now (by the rules, or before), in which
// case the rules and settings stay as they are (said once).
bool kernel_locked_now(DaemonContext& daemon) {
  if (Result<netlink::AuditStatus> status = daemon.control.get_status(); status)
    daemon.kernel_lock.update(*status, "at exit");
  return daemon.kernel_lock.keep_at_exit();
}

// As the audit daemon only: beside another daemon (multicast) the kernel is its business.
Status apply_kernel_settings(DaemonContext& daemon) {
  if (daemon.config.input != "netlink") return {};
  // Locked (-e 2): the kernel refuses every change until reboot; collect with what is in force.
  if (Result<netlink::AuditStatus> status = daemon.control.get_status();
      status && daemon.kernel_lock.update(*status, "at start"))
    return {};
  daemon.kernel_settings.emplace(daemon.control);
  if (Status applied = apply_configured_kernel_settings(daemon.config, *daemon.kernel_settings,
                                                        daemon.control, daemon.kernel_lock);
      !applied) {
    (void)daemon.kernel_settings->restore();  // what this step set before the failure
    daemon.kernel_settings.reset();
    return fail(kExitRuntimeFailure, "kernel audit settings: " + applied.error());
  }
  return {};
}
void restore_kernel_settings(DaemonContext& daemon) {
  if (!daemon.kernel_settings) return;
  if (kernel_locked_now(daemon)) {
    daemon.kernel_settings->forget();  // the kernel refuses any change until reboot
    daemon.kernel_settings.reset();
    return;
  }
  if (Status restored = daemon.kernel_settings->restore(); !restored) {
    spdlog::error("restoring kernel audit settings: {}", restored.error());
    note_teardown_failure(daemon);
  }
  daemon.kernel_settings.reset();
}

// The record source: the audit netlink socket (becoming the audit daemon with --input netlink),
// or a log file.
Status open_input(DaemonContext& daemon) {
  const Config& config = daemon.config;
  if (!daemon.live) {
    Result<std::unique_ptr<LogFileSource>> file =
        LogFileSource::open(config.input, &daemon.metrics);
    if (!file) return fail(kExitRuntimeFailure, file.error());
    daemon.source = std::move(file).value();
    return {};
  }
  Result<std::unique_ptr<NetlinkSource>> socket =
      NetlinkSource::open(make_data_socket_options(config), &daemon.metrics);
  if (!socket) return fail(socket.exit_code_or(kExitRuntimeFailure), socket.error());
  daemon.source = std::move(socket).value();
  return {};
}
// Closes the source, wherever it is now: closing the netlink socket gives the audit pid back, so
// this comes after the rules are deleted (no audit records fall to the kernel log meanwhile).
void close_input(DaemonContext& daemon) {
  daemon.pipeline.reset();  // owns the source (and the sink) once started
  daemon.source.reset();
}

// As the audit daemon only. The kernel settings the file sets win over the config's (the
// operator wrote them there); both are put back at exit.
Status load_rules(DaemonContext& daemon) {
  const Config& config = daemon.config;
  if (config.input != "netlink" || (config.rules_file.empty() && config.rules_dir.empty()))
    return {};
  // A missing rules file at the default path is a host without rules yet, not an error.
  if (config.rules_dir.empty() && !config.is_set("rules_file") &&
      access(config.rules_file.c_str(), F_OK) != 0) {
    spdlog::warn("no rules file at {}: collecting with the rules already loaded",
                 config.rules_file);
    return {};
  }
  if (daemon.kernel_lock.locked()) {
    spdlog::info(
        "{}: not loaded, the audit configuration is locked (the kernel keeps the rules "
        "loaded before the lock)",
        rules_source(config));
    return {};
  }
  daemon.rules.emplace(daemon.control);
  if (Status loaded = daemon.rules->load(config, daemon.metrics); !loaded)
    return fail(kExitConfigError, "rules: " + loaded.error());
  // A rule set that ends with -e 2 locks the configuration now.
  if (Result<netlink::AuditStatus> status = daemon.control.get_status(); status)
    daemon.kernel_lock.update(*status, "after loading the rules");
  warn_where_rules_file_won(config, daemon.control);
  return {};
}
void unload_rules(DaemonContext& daemon) {
  if (!daemon.rules) return;
  if (kernel_locked_now(daemon)) {
    daemon.rules->keep();  // the kernel refuses to delete them until reboot
    daemon.rules.reset();
    return;
  }
  if (!daemon.rules->unload()) note_teardown_failure(daemon);  // logged by unload()
  daemon.rules.reset();
}

// While this is the only thread (capabilities are per thread).
Status drop_privileges_to_user(DaemonContext& daemon) {
  const Config& config = daemon.config;
  if (config.user.empty()) return {};
  // Directories the unprivileged process still writes to (the state file and the dead letters
  // are replaced or appended there; the spool's segments created and deleted).
  for (const auto& [file, written] :
       {std::pair{config.state_file, writes_state_file(config, daemon.live)},
        std::pair{config.delivery.dead_letter_file, writes_spool(config)}}) {
    if (file.empty() || !written) continue;
    if (Status prepared = prepare_directory_for_user(
            std::filesystem::path(file).parent_path().string(), config.user);
        !prepared)
      spdlog::warn("directory of {}: {}", file, prepared.error());
  }
  if (writes_spool(config))
    if (Status prepared = prepare_directory_for_user(config.delivery.spool_dir, config.user);
        !prepared)
      spdlog::warn("spool directory {}: {}", config.delivery.spool_dir, prepared.error());
  if (Status dropped = drop_privileges(config.user); !dropped)
    return fail(kExitRuntimeFailure, "privilege drop to " + config.user + ": " + dropped.error());
  return {};
}

Status start_reporting(DaemonContext& daemon) {
  daemon.reports.emplace(daemon.config, daemon.live, daemon.started, daemon.control,
                         daemon.metrics);
  return {};
}
// The final reports, after the pipeline has stopped: its last counters and the kernel's view.
void write_final_reports(DaemonContext& daemon) {
  note_serials(daemon);
  daemon.reports->poll_kernel(Clock::now());
  daemon.reports->write();
}

Status start_pipeline(DaemonContext& daemon) {
  const Config& config = daemon.config;
  daemon.pipeline =
      std::make_unique<Pipeline>(make_pipeline_config(config), std::move(daemon.source),
                                 std::move(daemon.sink), daemon.metrics);
  daemon.pipeline->set_audit_log(std::move(daemon.audit_log));
  daemon.pipeline->start();
  sd_notify(0, "READY=1\nSTATUS=collecting");
  spdlog::info("aurelay {} started: input {}, output {}", AURELAY_VERSION, config.input,
               output::redact_url_credentials(config.effective_output()));
  daemon.reports->poll_kernel(Clock::now());
  return {};
}
// Waits for the threads (after the end of input or a stop signal, or stops them when an earlier
// teardown is unwinding); a failed input makes the exit code 1.
void join_pipeline(DaemonContext& daemon) {
  if (!daemon.pipeline->finished()) daemon.pipeline->request_stop();
  daemon.pipeline->join();
  if (std::string source_error = daemon.pipeline->source_error(); !source_error.empty()) {
    spdlog::error("input failed: {}", source_error);
    note_teardown_failure(daemon);
  }
}

// The main loop: signals and timers until the pipeline has finished.
Status serve_signals_and_timers(DaemonContext& daemon) {
  const Config& config = daemon.config;
  Pipeline& pipeline = *daemon.pipeline;
  Reports& reports = *daemon.reports;
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  std::uint64_t last_heartbeat = pipeline.heartbeat();
  Clock::time_point next_kernel_poll = Clock::now() + kKernelPollInterval;
  Clock::time_point next_report = Clock::now() + std::chrono::seconds(config.report_interval);
  Clock::time_point next_watchdog = Clock::now();
  std::uint64_t rule_deletions_handled = 0;
  bool stopping = false;
  while (!pipeline.finished()) {
    const SignalChannel::Received signal =
        daemon.signals->next(kMainLoopTickMs, pipeline.finished_fd());
    switch (signal.number) {
      case SIGTERM:
      case SIGINT:
        pipeline.set_stopped_by(signal.sender);
        if (stopping) {
          spdlog::warn("second stop signal: exiting at once");
          std::_Exit(kExitRuntimeFailure);
        }
        stopping = true;
        spdlog::info("stop signal: draining");
        sd_notify(0, "STOPPING=1");
        pipeline.request_stop();
        break;
      case SIGHUP:
        spdlog::info("SIGHUP: reopening output, rereading {}",
                     config.config_file.empty() ? "(no config file)" : config.config_file);
        pipeline.request_reopen();
        reload_config(config);
        break;
      case SIGCONT:
        reports.poll_kernel(Clock::now());  // the kernel's view as of now
        reports.write();
        break;
      case SIGUSR1:
        if (!pipeline.request_log_rotate(signal.sender))
          spdlog::info("SIGUSR1: no local audit log to rotate (write_logs = no)");
        break;
      case SIGUSR2:
        if (!pipeline.request_log_resume(signal.sender))
          spdlog::info("SIGUSR2: no local audit log to resume (write_logs = no)");
        break;
      default:
        break;
    }
    if (const std::uint64_t seen = pipeline.rule_deletions_seen();
        seen != rule_deletions_handled && config.rules_repair && daemon.rules && !stopping) {
      rule_deletions_handled = seen;
      repair_rules(*daemon.rules, pipeline.last_rule_deletion(), daemon.metrics);
    }
    note_serials(daemon);
    Clock::time_point now = Clock::now();
    if (daemon.live && now >= next_kernel_poll) {
      reports.poll_kernel(now);
      next_kernel_poll = now + kKernelPollInterval;
    }
    if (config.report_interval > 0 && now >= next_report) {
      reports.write();
      next_report = now + std::chrono::seconds(config.report_interval);
    }
    if (watchdog && now >= next_watchdog) {
      // Only tell systemd we are alive when the pipeline threads are making progress.
      std::uint64_t heartbeat = pipeline.heartbeat();
      if (heartbeat != last_heartbeat) sd_notify(0, "WATCHDOG=1");
      last_heartbeat = heartbeat;
      next_watchdog = now + std::chrono::microseconds(watchdog_usec / 3);
    }
  }
  return {};
}

// The daemon's life. Each step runs when the ones above it succeeded; at the end, or at the first
// failure, the teardowns of the steps that ran are run from the bottom up.
constexpr StartupStep<DaemonContext> kDaemonSteps[] = {
    {"set up logging", &set_up_logging, &log_exit_summary},
    {"take signals through a signalfd", &take_signals, &close_signals},
    {"create the directories it writes to", &create_directories, nullptr},
    {"open the serial file (restart gap)", &open_serial_file, nullptr},
    {"open the output", &open_output, &close_output},
    {"open the local audit log", &open_audit_log, &close_audit_log},
    {"open the audit control socket", &open_audit_control, &close_audit_control},
    {"apply the configured kernel settings", &apply_kernel_settings, &restore_kernel_settings},
    {"open the input (become the audit daemon)", &open_input, &close_input},
    {"load the rules file", &load_rules, &unload_rules},
    {"drop privileges", &drop_privileges_to_user, nullptr},
    {"start reporting", &start_reporting, &write_final_reports},
    {"start the pipeline threads", &start_pipeline, &join_pipeline},
    {"serve signals and timers", &serve_signals_and_timers, nullptr},
};

}  // namespace

int run_daemon(const Config& config) {
  DaemonContext daemon(config);
  Status lived = run_steps<DaemonContext>(kDaemonSteps, daemon);
  if (!lived) return lived.exit_code_or(kExitRuntimeFailure);
  return daemon.teardown_failed ? kExitRuntimeFailure : kExitOk;
}

}  // namespace aurelay::collector
