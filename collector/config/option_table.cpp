// The option table: every option's name, type, section, default, range, documentation and the
// member of Config it writes (FIELD: a path into a component's struct). Parsing (config.cpp) and
// the generated documents (render.cpp) are driven by it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "auditlog/log_settings.h"
#include "collector/config/config.h"
#include "correlate/event_assembler.h"
#include "correlate/process_table.h"
#include "mozdef/encoder.h"
#include "netlink/audit_socket.h"
#include "output/amqp/amqp_publisher.h"
#include "output/amqp/amqp_sink.h"
#include "output/http/bulk_format.h"
#include "output/http/http_sink.h"
#include "output/retry_policy.h"
#include "output/spool.h"
#include "output/url_credentials.h"

namespace aurelay::collector {

namespace {

using S = OptionSection;
using T = OptionType;

// The name of an enum value, at compile time (a choice option's default).
template <typename Enum, std::size_t N>
consteval std::string_view named(const std::array<ChoiceName<Enum>, N>& names, Enum value) {
  return choice_name(names, value);
}

// The decimal text of a component's default constant, at compile time, so a numeric option's
// default is written once: in the component's header, read by its config struct and by this
// table.
template <auto Value>
struct DecimalText {
  static_assert(std::is_integral_v<decltype(Value)> && std::cmp_greater_equal(Value, 0));
  static constexpr std::size_t kCapacity = 20;  // digits of the largest std::uint64_t
  static constexpr auto kDigits = [] {
    std::array<char, kCapacity> out{};
    auto rest = static_cast<std::uint64_t>(Value);
    std::size_t at = kCapacity;
    do {
      out[--at] = static_cast<char>('0' + rest % 10);
      rest /= 10;
    } while (rest != 0);
    return out;
  }();
  static constexpr std::size_t kFirst = [] {
    std::size_t at = 0;
    while (kDigits[at] == '\0') ++at;
    return at;
  }();
};
template <auto Value>
consteval std::string_view decimal() {
  return {DecimalText<Value>::kDigits.data() + DecimalText<Value>::kFirst,
          DecimalText<Value>::kCapacity - DecimalText<Value>::kFirst};
}
static_assert(decimal<1073741824ULL>() == "1073741824" && decimal<0>() == "0");

// The accessors of a member, made from a type whose call returns the member (the table's macros
// below write it as a lambda with the member's path: FIELD(pipeline.encoder.tags)).
template <typename>
inline constexpr bool kIsMilliseconds = false;
template <>
inline constexpr bool kIsMilliseconds<std::chrono::milliseconds> = true;

template <typename Path>
constexpr ConfigMember member_of() {
  using V = std::remove_cvref_t<decltype(Path{}(std::declval<Config&>()))>;
  if constexpr (std::is_same_v<V, std::string>) {
    return +[](Config& config) -> std::string& { return Path{}(config); };
  } else if constexpr (std::is_same_v<V, bool>) {
    return +[](Config& config) -> bool& { return Path{}(config); };
  } else if constexpr (kIsMilliseconds<V>) {
    return NumberMember{
        [](Config& config, std::int64_t value) {
          Path{}(config) = std::chrono::milliseconds(value);
        },
        [](const Config& config) -> std::int64_t { return Path{}(config).count(); }};
  } else {
    static_assert(std::is_integral_v<V>, "FIELD: a string, bool, integer or milliseconds member");
    return NumberMember{
        [](Config& config, std::int64_t value) { Path{}(config) = static_cast<V>(value); },
        [](const Config& config) { return static_cast<std::int64_t>(Path{}(config)); }};
  }
}

// A kChoice option's member, written and read through the names of its enum; the table's list
// of values must be the enum's names.
template <typename Path, const auto& Names, const std::string_view& Choices>
constexpr ChoiceMember choice_member() {
  static_assert(choices_list_names(Choices, Names));
  return ChoiceMember{
      [](Config& config, std::string_view name) {
        const auto value = parse_choice(Names, name);
        if (value) Path{}(config) = *value;
        return value.has_value();
      },
      [](const Config& config) { return choice_name(Names, Path{}(config)); },
      Choices,
  };
}

#define AURELAY_MEMBER_PATH(path) decltype([](auto& config) -> auto& { return config.path; })
#define FIELD(path) member_of<AURELAY_MEMBER_PATH(path)>()
#define CHOICE(path, names, choices) choice_member<AURELAY_MEMBER_PATH(path), names, choices>()

// clang-format off
const std::array kOptions = {
  // ---- input
  OptionSpec{"input", T::kString, S::kInput, "netlink", 0, 0, "", "SOURCE",
    "Where records come from: `netlink` registers as the audit daemon (needs CAP_AUDIT_CONTROL "
    "and no auditd running), `multicast` reads a copy beside auditd (CAP_AUDIT_READ; records are "
    "lost silently when it falls behind), `stdin` reads auditd plugin input, anything else is a "
    "file of audit log lines (write ./NAME for a file in the current directory).",
    FIELD(input)},
  OptionSpec{"receive_buffer_bytes", T::kBytes, S::kInput,
    decimal<netlink::kDefaultReceiveBufferBytes>(), 64 * kKiB, 2 * kGiB, "",
    "BYTES",
    "Receive buffer of the netlink socket (SO_RCVBUFFORCE). Large enough to absorb a burst while "
    "the reader is scheduled out; ENOBUFS is counted when it overruns. Suffixes K, M, G.",
    FIELD(data_socket.receive_buffer_bytes)},
  OptionSpec{"queue_full_action", T::kChoice, S::kInput,
    named(kQueueFullActionNames, kDefaultQueueFullAction), 0, 0,
    kQueueFullActionChoices, "ACTION",
    "When the ring to the correlator is full: `block` stops reading (the kernel backlog absorbs "
    "it, audited processes may wait up to backlog_wait_time), `drop` discards and counts.",
    CHOICE(pipeline.queue_full_action, kQueueFullActionNames, kQueueFullActionChoices)},
  OptionSpec{"ring_capacity", T::kUnsigned, S::kInput, decimal<kDefaultRingCapacity>(), 2, 1 << 16, "", "N",
    "Record batches (each up to 1024 records or 128 KiB) the ring between reader and correlator "
    "holds; a power of two. Bounds the memory a backlog can take; bursts beyond it wait in the "
    "socket buffer (receive_buffer_bytes) and then the kernel backlog.",
    FIELD(pipeline.record_batches)},
  OptionSpec{"eoe_timeout_ms", T::kUnsigned, S::kInput,
    decimal<correlate::kDefaultEoeTimeoutMs>(), 10, 600000, "", "MS",
    "An event whose EOE record has not arrived after this many milliseconds of wall-clock time "
    "is completed with the records it has.",
    FIELD(pipeline.assembler.eoe_timeout)},
  OptionSpec{"max_in_flight", T::kUnsigned, S::kInput,
    decimal<correlate::kDefaultMaxInFlight>(), 16, 1 << 20, "", "N",
    "Events being assembled at once; beyond it the oldest is completed early (counted).",
    FIELD(pipeline.assembler.max_in_flight)},
  OptionSpec{"hostname", T::kString, S::kInput, "", 0, 0, "", "NAME",
    "Host name put in every document; empty = the system's host name.",
    FIELD(pipeline.encoder.hostname)},
  // ---- kernel
  OptionSpec{"backlog_limit", T::kSigned, S::kKernel, "8192", -1, 0x7fffffff, "", "N",
    "Kernel audit backlog limit (auditctl -b) set at start; -1 = leave as found. Restored on "
    "exit. A rules file line -b overrides it.",
    FIELD(backlog_limit)},
  OptionSpec{"backlog_wait_time", T::kSigned, S::kKernel, "-1", -1, 600000, "", "TICKS",
    "How long an audited process waits when the backlog is full (auditctl --backlog_wait_time, "
    "in kernel ticks; 0 = never wait); -1 = leave as found. Restored on exit. A rules file line "
    "--backlog_wait_time overrides it.",
    FIELD(backlog_wait_time)},
  OptionSpec{"rate_limit", T::kSigned, S::kKernel, "-1", -1, 0x7fffffff, "", "N",
    "Kernel message rate limit per second (auditctl -r; 0 = none); -1 = leave as found. "
    "Restored on exit. A rules file line -r overrides it; records the kernel drops above the "
    "limit are counted as kernel lost.",
    FIELD(rate_limit)},
  OptionSpec{"enabled", T::kChoice, S::kKernel,
    named(kKernelEnabledNames, kDefaultKernelEnabled), 0, 0,
    kKernelEnabledChoices, "STATE",
    "Kernel audit state set at start (auditctl -e): 1 enables, 0 disables, keep leaves it. The "
    "state found at start is restored on exit (unless the rules locked it with -e 2). A rules "
    "file line -e 0 or -e 1 overrides it.",
    CHOICE(enabled, kKernelEnabledNames, kKernelEnabledChoices)},
  OptionSpec{"rules_file", T::kPath, S::kKernel, "/etc/aurelay/audit.rules", 0, 0, "", "PATH",
    "Audit rules loaded at start with `auditctl -R` (no shell); empty = load none. Its kernel "
    "settings (-b, -r, -e, -f, --backlog_wait_time) win over the keys above; at exit the rules "
    "it loaded are deleted and those settings restored.",
    FIELD(rules_file)},
  OptionSpec{"rules_dir", T::kPath, S::kKernel, "", 0, 0, "", "DIR",
    "Instead of rules_file: every *.rules file of this directory, merged as augenrules merges "
    "/etc/audit/rules.d (files in `ls -v` order; comment and empty lines dropped; the last -D "
    "alone, -b and -f first, the last -e last), e.g. /etc/audit/rules.d. A failing rule is "
    "reported with its own file and line; --check-config prints the merged set.",
    FIELD(rules_dir)},
  OptionSpec{"auditctl", T::kPath, S::kKernel, "/sbin/auditctl", 0, 0, "", "PATH",
    "The auditctl program used to load rules_file (Debian package auditd).",
    FIELD(auditctl)},
  OptionSpec{"rules_missing_auditctl", T::kChoice, S::kKernel,
    named(kRulesMissingAuditctlNames, kDefaultRulesMissingAuditctl), 0, 0,
    kRulesMissingAuditctlChoices,
    "ACTION",
    "When auditctl is not installed: `error` exits with status 2, `skip` starts without "
    "loading rules (logged).",
    CHOICE(rules_missing_auditctl, kRulesMissingAuditctlNames, kRulesMissingAuditctlChoices)},
  OptionSpec{"rules_errors", T::kChoice, S::kKernel,
    named(kRulesErrorsNames, kDefaultRulesErrors), 0, 0,
    kRulesErrorsChoices,
    "ACTION",
    "A rules_file line that fails to load (a watch on a missing path, a duplicate rule, a "
    "syscall auditctl does not know). `follow_file` does what auditctl -R does: after a line "
    "`-i` (or `-c`) in the file, a failed line is a warning naming file and line, counted in "
    "the state file (rules failed lines), and the other rules load; without it the first "
    "failed line stops the load and aurelay exits with status 2. `fatal`: any failed line "
    "makes aurelay delete the rules it loaded and exit with status 2.",
    CHOICE(rules_errors, kRulesErrorsNames, kRulesErrorsChoices)},
  OptionSpec{"rules_repair", T::kBool, S::kKernel, "yes", 0, 0, "", "BOOL",
    "Keep the loaded rules loaded: when the audit stream shows rules deleted by anyone else "
    "(CONFIG_CHANGE op=remove_rule: auditctl -D, augenrules in a package's postinst), the rules "
    "of aurelay's set that are gone are loaded again within a second, with one warning naming who "
    "deleted them (auid, pid, exe), counted in rules repairs.",
    FIELD(rules_repair)},
  // ---- daemon
  OptionSpec{"user", T::kString, S::kDaemon, "", 0, 0, "", "USER",
    "After registering and loading the rules, switch to this user keeping only "
    "CAP_AUDIT_CONTROL and CAP_AUDIT_READ; empty = stay root.",
    FIELD(user), "aurelay"},
  OptionSpec{"state_file", T::kPath, S::kDaemon, "/run/aurelay/aurelay.state", 0, 0, "", "PATH",
    "Status and counters, written on SIGCONT (`auditctl --signal state`) and every "
    "report_interval; empty = never.",
    FIELD(state_file)},
  OptionSpec{"serial_file", T::kPath, S::kDaemon, "", 0, 0, "", "PATH",
    "Live: the serial of the last record read (with the boot id), so that the next start can "
    "estimate the events the kernel dropped while no audit daemon was registered "
    "(restart gap serials, aurelay_restart_gap_serials_total, and a warning); empty = never. "
    "The shipped aurelay.conf keeps it in /var/lib/aurelay/last-serial.",
    FIELD(serial_file), "/var/lib/aurelay/last-serial"},
  OptionSpec{"report_interval", T::kUnsigned, S::kDaemon, "60", 0, 86400, "", "SECONDS",
    "Seconds between state file and metrics_file writes; 0 = only on SIGCONT.",
    FIELD(report_interval)},
  OptionSpec{"metrics_file", T::kPath, S::kDaemon, "", 0, 0, "", "PATH",
    "Every counter and gauge in the Prometheus text format (aurelay_*), written atomically "
    "every report_interval, on SIGCONT and at exit; point it into node_exporter's "
    "--collector.textfile.directory (the name must end in .prom). Empty = none.",
    FIELD(metrics_file)},
  OptionSpec{"log_level", T::kChoice, S::kDaemon,
    named(kLogLevelNames, kDefaultLogLevel), 0, 0,
    kLogLevelChoices, "LEVEL",
    "Least severe message logged.",
    CHOICE(log_level, kLogLevelNames, kLogLevelChoices)},
  OptionSpec{"log_target", T::kChoice, S::kDaemon,
    named(kLogTargetNames, kDefaultLogTarget), 0, 0,
    kLogTargetChoices,
    "TARGET",
    "Where aurelay's own messages go; auto = the journal when started by systemd, stderr "
    "otherwise.",
    CHOICE(log_target, kLogTargetNames, kLogTargetChoices)},
  // ---- local audit log: auditd.conf(5)'s keys, values and meanings
  OptionSpec{"write_logs", T::kBool, S::kAuditLog, "no", 0, 0, "", "yes|no",
    "Write every record read to log_file in auditd's format, as auditd does, for ausearch, "
    "aureport and local retention. Written as records are read, before correlation: an output "
    "outage never delays it and a full disk never stops the documents. The shipped aurelay.conf "
    "turns it on.",
    FIELD(audit_log.write_logs), "yes"},
  OptionSpec{"log_file", T::kPath, S::kAuditLog, "/var/log/audit/audit.log", 0, 0, "", "PATH",
    "The local audit log. Its directory is given mode 0750 (0700 without log_group) at start, "
    "as auditd does, so it must be a directory of its own (not /tmp).",
    FIELD(audit_log.log_file)},
  OptionSpec{"log_format", T::kChoice, S::kAuditLog,
    named(auditlog::kLogFormatNames, auditlog::kDefaultLogFormat), 0, 0,
    auditlog::kLogFormatChoices, "FORMAT",
    "`raw`: each record as the kernel sent it (type=NAME msg=…). `enriched`: the same line, then "
    "0x1D and the uid, gid, syscall, arch and socket address fields interpreted "
    "(AUID=\"root\" SYSCALL=execve), exactly as auditd 3.0.9 writes them.",
    CHOICE(audit_log.format, auditlog::kLogFormatNames, auditlog::kLogFormatChoices)},
  OptionSpec{"log_group", T::kString, S::kAuditLog, "root", 0, 0, "", "GROUP",
    "Group that may read the logs (files 0640, rotated ones 0440); root = only root.",
    FIELD(audit_log.log_group), "adm"},
  OptionSpec{"flush", T::kChoice, S::kAuditLog,
    named(auditlog::kFlushModeNames, auditlog::kDefaultFlushMode), 0, 0,
    auditlog::kFlushModeChoices, "MODE",
    "`none`: left to the kernel. `incremental`: fsync every freq records. "
    "`incremental_async`: the same from a thread of its own, so writing never waits. `data`, "
    "`sync`: every write reaches the disk before the next (O_DSYNC, O_SYNC).",
    CHOICE(audit_log.flush, auditlog::kFlushModeNames, auditlog::kFlushModeChoices)},
  OptionSpec{"freq", T::kUnsigned, S::kAuditLog, decimal<auditlog::kDefaultFreq>(), 0, 1 << 30,
    "", "N", "Records between flushes for the incremental modes.",
    FIELD(audit_log.freq)},
  OptionSpec{"max_log_file", T::kUnsigned, S::kAuditLog, decimal<auditlog::kDefaultMaxLogFileMib>(),
    0, 1 << 20, "", "MIB", "Size in megabytes at which max_log_file_action runs; 0 = no limit.",
    FIELD(audit_log.max_log_file_mib)},
  OptionSpec{"num_logs", T::kUnsigned, S::kAuditLog, decimal<auditlog::kDefaultNumLogs>(), 0, 999,
    "", "N",
    "Logs kept by rotate: log_file and log_file.1 … log_file.N-1 (older ones are removed at "
    "start); below 2 no rotation happens.",
    FIELD(audit_log.num_logs)},
  OptionSpec{"max_log_file_action", T::kChoice, S::kAuditLog,
    named(auditlog::kSizeActionNames, auditlog::kDefaultSizeAction), 0, 0,
    auditlog::kSizeActionChoices, "ACTION",
    "At max_log_file: `ignore`; `syslog` warns; `suspend` stops writing (SIGUSR2 resumes); "
    "`rotate` renames log_file to .1, .1 to .2 … keeping num_logs; `keep_logs` rotates without "
    "ever removing one. SIGUSR1 rotates at any time.",
    CHOICE(audit_log.max_log_file_action, auditlog::kSizeActionNames, auditlog::kSizeActionChoices)},
  OptionSpec{"space_left", T::kString, S::kAuditLog, "75", 0, 0, "", "MIB|N%",
    "Free space (megabytes, or a percentage of the file system) below which space_left_action "
    "runs, once.",
    FIELD(audit_log.space_left)},
  OptionSpec{"space_left_action", T::kString, S::kAuditLog, "syslog", 0, 0, "", "ACTION",
    "`ignore`, `syslog` (a warning; again when space came back in between), `rotate`, "
    "`exec /path/to/program` (the log is closed first and stays suspended until SIGUSR2), "
    "`suspend` (stop writing until SIGUSR2; documents keep flowing), `single` or `halt` (run "
    "/sbin/init 1 or 0, as auditd does).",
    FIELD(audit_log.space_left_action)},
  OptionSpec{"admin_space_left", T::kString, S::kAuditLog, "50", 0, 0, "", "MIB|N%",
    "The last line of defence: below this much free space admin_space_left_action runs; less "
    "than space_left.",
    FIELD(audit_log.admin_space_left)},
  OptionSpec{"admin_space_left_action", T::kString, S::kAuditLog, "suspend", 0, 0, "", "ACTION",
    "As space_left_action.",
    FIELD(audit_log.admin_space_left_action)},
  OptionSpec{"disk_full_action", T::kString, S::kAuditLog, "suspend", 0, 0, "", "ACTION",
    "When a write finds the disk full (or fewer than 5 blocks are free): as space_left_action.",
    FIELD(audit_log.disk_full_action)},
  OptionSpec{"disk_error_action", T::kString, S::kAuditLog, "suspend", 0, 0, "", "ACTION",
    "When a write, flush or rotation fails otherwise: `ignore`, `syslog` (the first 5), "
    "`exec /path`, `suspend`, `single`, `halt`.",
    FIELD(audit_log.disk_error_action)},
  OptionSpec{"name_format", T::kChoice, S::kAuditLog,
    named(auditlog::kNameFormatNames, auditlog::kDefaultNameFormat), 0, 0,
    auditlog::kNameFormatChoices, "FORMAT",
    "A node=NAME prefix on every line: `hostname`, `fqd` (the resolved full name), `numeric` "
    "(the host's address), `user` (the `name` option); `none` writes none.",
    CHOICE(audit_log.name_format, auditlog::kNameFormatNames, auditlog::kNameFormatChoices)},
  OptionSpec{"name", T::kString, S::kAuditLog, "", 0, 0, "", "NAME",
    "The node name for name_format = user.",
    FIELD(audit_log.name)},
  OptionSpec{"auditd_conf", T::kPath, S::kAuditLog, "", 0, 0, "", "PATH",
    "An auditd.conf (e.g. /etc/audit/auditd.conf) to take the keys of this section from, for an "
    "operator's existing settings; a key also set here or on the command line keeps that value. "
    "Its other keys are ignored, named in one info line at start.",
    FIELD(auditd_conf)},
  // ---- output
  OptionSpec{"output", T::kString, S::kOutput, "stdout", 0, 0, "", "DEST",
    "Where MozDef documents go: `stdout`, a file path (one JSON document per line, reopened "
    "on SIGHUP), an http:// or https:// URL (MozDef loginput, e.g. "
    "https://mozdef.example.com/_bulk or /events), or amqp://user:password@host:5672/vhost "
    "or amqps://… (MozDef's RabbitMQ; a comma-separated list for a cluster, see amqp_url).",
    FIELD(output)},
  OptionSpec{"mozdef_url", T::kString, S::kOutput, "", 0, 0, "", "URL",
    "audisp-json: MozDef URL documents are posted to. Used when output is not set.",
    FIELD(mozdef_url)},
  OptionSpec{"file_log", T::kPath, S::kOutput, "", 0, 0, "", "PATH",
    "audisp-json: write documents to this file instead of posting them. Used when output is "
    "not set; wins over mozdef_url.",
    FIELD(file_log)},
  OptionSpec{"prepend_msg", T::kString, S::kOutput, "", 0, 0, "", "TEXT",
    "audisp-json: text written before each document in a file or on stdout.",
    FIELD(file.prepend_msg)},
  OptionSpec{"postpend_msg", T::kString, S::kOutput, "", 0, 0, "", "TEXT",
    "audisp-json: text written after each document in a file or on stdout.",
    FIELD(file.postpend_msg)},
  OptionSpec{"shipper_name", T::kString, S::kOutput, mozdef::kDefaultShipperName, 0, 0, "", "NAME",
    "Top-level processname of every document (processid is aurelay's pid). MozDef's auditd "
    "plugins and alerts (auditd_sftp) expect audisp-json's; empty = the audited program's name "
    "and pid instead. The audited program is always in details.processname and details.process.",
    FIELD(pipeline.encoder.shipper_name)},
  OptionSpec{"tags", T::kString, S::kOutput, mozdef::kDefaultTags, 0, 0, "",
    "LIST",
    "Comma-separated tags of every document. MozDef runs its auditd plugins on documents that "
    "hold the value auditd or audisp-json.",
    FIELD(pipeline.encoder.tags)},
  OptionSpec{"max_value_bytes", T::kBytes, S::kOutput, decimal<mozdef::kDefaultMaxValueBytes>(), 1024, 32766, "", "BYTES",
    "Longest value in a document (UTF-8 bytes); longer ones (a 100 KB command line) are cut at "
    "a character boundary and named in details.truncated. Elasticsearch refuses a whole "
    "document whose keyword value is over 32766 bytes.",
    FIELD(pipeline.encoder.max_value_bytes)},
  OptionSpec{"process_table_size", T::kUnsigned, S::kOutput,
    decimal<correlate::kDefaultProcessTableSize>(), 16, 1 << 22, "", "N",
    "Processes remembered (pid, parent, name) to name each event's parent in "
    "details.parentprocess; the least recently seen is forgotten beyond it. Live inputs read "
    "/proc/PPID/comm for a parent the audit stream has not shown.",
    FIELD(pipeline.encoder.process_table.capacity)},
  OptionSpec{"process_context", T::kBool, S::kOutput, "yes", 0, 0, "", "yes|no",
    "Live netlink input: look up the process of each SYSCALL record in /proc as the record is "
    "read, for details.containerid, details.systemdunit and details.processstarttime (a process "
    "already gone takes its parent's container and unit). Never in a replay or on stdin.",
    FIELD(pipeline.process_context)},
  OptionSpec{"filter_keys", T::kString, S::kOutput, "", 0, 0, "", "LIST",
    "Events whose audit key is one of these (comma-separated) are not sent: counted in events "
    "filtered by key (aurelay_events_filtered_total{filter=\"key\"}) and dropped, or written "
    "to filter_file.",
    FIELD(pipeline.filter.keys)},
  OptionSpec{"filter_syscalls", T::kString, S::kOutput, "", 0, 0, "", "LIST",
    "Events of these syscalls (names, comma-separated, e.g. getppid,stat) are not sent. An "
    "unknown name is a config error.",
    FIELD(pipeline.filter.syscalls)},
  OptionSpec{"filter_exe", T::kString, S::kOutput, "", 0, 0, "", "REGEX",
    "Events whose executable path matches this extended regular expression (e.g. "
    "^/usr/lib/nagios/) are not sent. A bad expression is a config error.",
    FIELD(pipeline.filter.exe)},
  OptionSpec{"filter_uids", T::kString, S::kOutput, "", 0, 0, "", "LIST",
    "Events whose uid or auid is one of these (numbers or user names, comma-separated) are not "
    "sent.",
    FIELD(pipeline.filter.uids)},
  OptionSpec{"filter_action", T::kChoice, S::kOutput,
    named(kFilterActionNames, kDefaultFilterAction), 0, 0, kFilterActionChoices, "ACTION",
    "What becomes of a filtered event: `drop` (only counted), or `file`: its document is "
    "written to filter_file instead, so the filters themselves can be audited.",
    CHOICE(pipeline.filter_action, kFilterActionNames, kFilterActionChoices)},
  OptionSpec{"filter_file", T::kPath, S::kOutput, "", 0, 0, "", "PATH",
    "Where filter_action = file writes the documents of filtered events (one per line).",
    FIELD(pipeline.filter_file)},
  // ---- http
  OptionSpec{"http_max_inflight", T::kUnsigned, S::kHttp,
    decimal<output::kDefaultHttpMaxInflight>(), 1, 256, "", "N",
    "Concurrent POSTs to the MozDef server (keep-alive connections).",
    FIELD(http.http_max_inflight)},
  OptionSpec{"bulk_format", T::kChoice, S::kHttp,
    named(output::kBulkFormatNames, output::kDefaultBulkFormat), 0, 0,
    output::kBulkFormatChoices, "FORMAT",
    "Body of a POST. `array`: a JSON array of documents, for MozDef /_bulk; always safe. "
    "`ndjson`: one document per line, for /_bulk; a batch of one document is sent as a "
    "one-element array instead, because loginput reads a one-line body as a single object and "
    "publishes its key names, losing the event. `single`: one document per POST, for MozDef "
    "/events. Left unset with a URL ending in /events, `single` is used; `array` or `ndjson` "
    "set with such a URL, or `single` with a URL ending in /_bulk, is a config error (loginput "
    "would fail or lose every POST).",
    CHOICE(http.bulk_format, output::kBulkFormatNames, output::kBulkFormatChoices)},
  OptionSpec{"batch_max_events", T::kUnsigned, S::kHttp,
    decimal<output::kDefaultBatchMaxEvents>(), 1, 100000, "", "N",
    "Most documents in one POST (AMQP: in one publish round).",
    FIELD(delivery.batch_max_events)},
  OptionSpec{"batch_max_bytes", T::kBytes, S::kHttp,
    decimal<output::kDefaultBatchMaxBytes>(), 1 * kKiB, 256 * kMiB, "",
    "BYTES", "Most bytes in one POST body (AMQP: in one publish round). Suffixes K, M, G.",
    FIELD(delivery.batch_max_bytes)},
  OptionSpec{"batch_flush_ms", T::kUnsigned, S::kHttp,
    decimal<output::kDefaultBatchFlushMs>(), 1, 60000, "", "MS",
    "Longest a batch that is not full waits for more documents while every connection "
    "(http_max_inflight) is busy. With a connection free a batch is sent at once, so a quiet "
    "host does not wait and a busy one sends full batches.",
    FIELD(delivery.batch_flush_ms)},
  OptionSpec{"retry_base_ms", T::kUnsigned, S::kHttp,
    decimal<output::kDefaultRetryBaseMs>(), 1, 3600000, "", "MS",
    "First retry delay after a failed POST (5xx, 408, 429, timeout, connection error); "
    "doubles per attempt with full jitter.",
    FIELD(delivery.retry_base_ms)},
  OptionSpec{"retry_max_ms", T::kUnsigned, S::kHttp,
    decimal<output::kDefaultRetryMaxMs>(), 1, 3600000, "", "MS",
    "Longest retry delay.",
    FIELD(delivery.retry_max_ms)},
  OptionSpec{"ssl_verify", T::kBool, S::kHttp, "yes", 0, 0, "", "yes|no",
    "audisp-json: verify the server's TLS certificate and host name.",
    FIELD(tls.verify)},
  OptionSpec{"curl_cainfo", T::kPath, S::kHttp, "", 0, 0, "", "PATH",
    "audisp-json: CA bundle that signs the server's certificate; empty = the system's.",
    FIELD(tls.ca_file)},
  OptionSpec{"ssl_client_cert", T::kPath, S::kHttp, "", 0, 0, "", "PATH",
    "Client certificate (PEM) for servers that require one.",
    FIELD(tls.client_cert)},
  OptionSpec{"ssl_client_key", T::kPath, S::kHttp, "", 0, 0, "", "PATH",
    "Private key (PEM) of ssl_client_cert.",
    FIELD(tls.client_key)},
  OptionSpec{"curl_verbose", T::kBool, S::kHttp, "no", 0, 0, "", "yes|no",
    "audisp-json: log curl's protocol trace to curl_logfile.",
    FIELD(http.curl_verbose)},
  OptionSpec{"curl_logfile", T::kPath, S::kHttp, "", 0, 0, "", "PATH",
    "audisp-json: file for curl's verbose trace; empty = aurelay's log.",
    FIELD(http.curl_logfile)},
  OptionSpec{"http_credentials_file", T::kPath, S::kHttp, "", 0, 0, "", "PATH",
    "File holding user:password for HTTP basic authentication, instead of putting them in the "
    "URL; refused when its group or others can read it. Credentials never appear in logs, the "
    "state file or --check-config output either way.",
    FIELD(http_credentials_file)},
  // ---- amqp
  OptionSpec{"amqp_url", T::kString, S::kAmqp, "", 0, 0, "", "URL[,URL...]",
    "Publish documents to MozDef's RabbitMQ instead of posting them to loginput: "
    "amqp://user:password@host:5672/vhost or amqps://… (TLS with ssl_verify, curl_cainfo, "
    "ssl_client_cert and ssl_client_key). Several comma-separated URLs are the nodes of a "
    "cluster: a failed connection moves to the next. Used when output is not set. Each "
    "document is one persistent message (content type application/json) and counts as "
    "delivered when the broker confirms it (publisher confirms). User and password never "
    "appear in logs or the state file.",
    FIELD(amqp_url)},
  OptionSpec{"amqp_exchange", T::kString, S::kAmqp, output::kDefaultAmqpExchange, 0, 0, "", "NAME",
    "Durable direct exchange documents are published to (MozDef's loginput and esworker use "
    "eventtask).",
    FIELD(amqp.publisher.exchange)},
  OptionSpec{"amqp_routing_key", T::kString, S::kAmqp, output::kDefaultAmqpRoutingKey, 0, 0, "", "KEY",
    "Routing key of every message.",
    FIELD(amqp.publisher.routing_key)},
  OptionSpec{"amqp_queue", T::kString, S::kAmqp, output::kDefaultAmqpQueue, 0, 0, "", "NAME",
    "Durable queue bound to the exchange with the routing key, declared at connection so "
    "events wait in it before any MozDef worker runs; empty = none declared. Messages are "
    "published mandatory: one that no queue takes comes back, is counted (amqp messages "
    "returned) and retried, never counted as delivered.",
    FIELD(amqp.publisher.queue)},
  OptionSpec{"amqp_declare", T::kChoice, S::kAmqp,
    named(output::kAmqpDeclareNames, output::kDefaultAmqpDeclare), 0, 0,
    output::kAmqpDeclareChoices,
    "MODE",
    "`declare` creates the exchange, the queue and the binding when missing (as loginput "
    "does); `passive` only checks that exchange and queue exist, for a user without the "
    "configure permission. A missing one is an error that is retried.",
    CHOICE(amqp.publisher.declare, output::kAmqpDeclareNames, output::kAmqpDeclareChoices)},
  OptionSpec{"amqp_confirm_window", T::kUnsigned, S::kAmqp,
    decimal<output::kDefaultAmqpConfirmWindow>(), 1, 65535, "", "N",
    "Messages published and not yet confirmed by the broker, at most. A nack, a return or a "
    "lost connection sends the unconfirmed documents again (at least once).",
    FIELD(amqp.confirm_window)},
  // ---- spool
  OptionSpec{"spool_dir", T::kPath, S::kSpool, "/var/lib/aurelay/spool", 0, 0, "", "PATH",
    "Directory of the disk spool that holds batches while the server is down or slow; they "
    "are sent in order once it recovers, also after a restart.",
    FIELD(delivery.spool_dir)},
  OptionSpec{"spool_max_bytes", T::kBytes, S::kSpool,
    decimal<output::kDefaultSpoolMaxBytes>(), 1 * kMiB, std::numeric_limits<std::int64_t>::max(), "",
    "BYTES", "Most bytes the spool may hold. Suffixes K, M, G.",
    FIELD(delivery.spool_max_bytes)},
  OptionSpec{"spool_full_action", T::kChoice, S::kSpool,
    named(output::kSpoolFullActionNames, output::kDefaultSpoolFullAction), 0, 0,
    output::kSpoolFullActionChoices, "ACTION",
    "When the spool is full: discard its oldest segment or the new batch (counted).",
    CHOICE(delivery.spool_full_action, output::kSpoolFullActionNames, output::kSpoolFullActionChoices)},
  OptionSpec{"spool_fsync", T::kChoice, S::kSpool,
    named(output::kSpoolFsyncNames, output::kDefaultSpoolFsync), 0, 0,
    output::kSpoolFsyncChoices,
    "POLICY",
    "When spool writes are flushed to disk (fdatasync): `always` after every batch written to "
    "the spool (safest, slowest); `batch` once per round of the sender's loop, whatever it "
    "spooled in that round, and when a segment is closed; `never` leaves it to the kernel (a "
    "crash of the machine may lose what was spooled last).",
    CHOICE(delivery.spool_fsync, output::kSpoolFsyncNames, output::kSpoolFsyncChoices)},
  OptionSpec{"dead_letter_file", T::kPath, S::kSpool, "/var/lib/aurelay/dead-letter.ndjson",
    0, 0, "", "PATH",
    "Documents the server rejected for good (HTTP: 4xx other than 408 and 429) are appended "
    "here; empty = they are only counted and logged.",
    FIELD(delivery.dead_letter_file)},
};
// clang-format on

}  // namespace

std::span<const OptionSpec> option_table() { return kOptions; }

const OptionSpec* find_option(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c == '-') c = '_';
  }
  for (const auto& spec : kOptions) {
    if (spec.name == key) return &spec;
  }
  return nullptr;
}

std::string_view section_title(OptionSection section) {
  switch (section) {
    case S::kInput:
      return "Input and event assembly";
    case S::kKernel:
      return "Kernel audit settings and rules";
    case S::kDaemon:
      return "Daemon";
    case S::kAuditLog:
      return "Local audit log (auditd.conf's keys)";
    case S::kOutput:
      return "Output";
    case S::kHttp:
      return "HTTP(S) delivery to MozDef";
    case S::kAmqp:
      return "AMQP delivery to MozDef's RabbitMQ";
    case S::kSpool:
      return "Disk spool and rejected documents";
  }
  return {};
}

}  // namespace aurelay::collector
