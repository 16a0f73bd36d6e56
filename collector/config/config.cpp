#include "collector/config/config.h"

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
constexpr std::int64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;

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
  // ---- daemon
  OptionSpec{"user", T::kString, S::kDaemon, "", 0, 0, "", "USER",
    "After registering and loading the rules, switch to this user keeping only "
    "CAP_AUDIT_CONTROL and CAP_AUDIT_READ; empty = stay root.",
    FIELD(user), "aurelay"},
  OptionSpec{"state_file", T::kPath, S::kDaemon, "/run/aurelay/aurelay.state", 0, 0, "", "PATH",
    "Status and counters, written on SIGCONT (`auditctl --signal state`) and every "
    "report_interval; empty = never.",
    FIELD(state_file)},
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
    decimal<output::kDefaultSpoolMaxBytes>(), 1 * kMiB, kMaxI64, "",
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

std::string_view trim(std::string_view text) {
  const char* spaces = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(spaces);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(spaces);
  return text.substr(first, last - first + 1);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> split_choices(std::string_view choices) {
  std::vector<std::string_view> out;
  while (!choices.empty()) {
    const auto bar = choices.find('|');
    out.push_back(choices.substr(0, bar));
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return out;
}

bool parse_bool(std::string_view text, bool& value) {
  const std::string word = lower(text);
  if (word == "yes" || word == "true" || word == "on" || word == "1") {
    value = true;
    return true;
  }
  if (word == "no" || word == "false" || word == "off" || word == "0") {
    value = false;
    return true;
  }
  return false;
}

// Parses a decimal integer with an optional K/M/G (KiB…) suffix when `suffixes`.
bool parse_integer(std::string_view text, bool suffixes, std::int64_t& value) {
  std::int64_t multiplier = 1;
  if (suffixes && !text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        multiplier = kKiB;
        break;
      case 'm':
      case 'M':
        multiplier = kMiB;
        break;
      case 'g':
      case 'G':
        multiplier = kGiB;
        break;
      default:
        break;
    }
    if (multiplier != 1) text.remove_suffix(1);
  }
  if (text.empty()) return false;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (number > 0 && number > kMaxI64 / multiplier) return false;
  if (number < 0 && multiplier != 1) return false;
  value = number * multiplier;
  return true;
}

std::string range_text(const OptionSpec& spec) {
  return std::to_string(spec.min) + ".." + std::to_string(spec.max);
}

std::string type_hint(const OptionSpec& spec) {
  switch (spec.type) {
    case T::kBool:
      return "yes or no";
    case T::kChoice: {
      std::string out;
      for (auto choice : split_choices(spec.choices)) {
        if (!out.empty()) out += ", ";
        out += choice;
      }
      return "one of " + out;
    }
    case T::kUnsigned:
    case T::kSigned:
      return "an integer in " + range_text(spec);
    case T::kBytes:
      return "a size in bytes (suffix K, M or G) in " + range_text(spec);
    case T::kString:
    case T::kPath:
      return "text";
  }
  return {};
}

bool is_keyword_or_path(std::string_view value, std::initializer_list<std::string_view> keywords) {
  for (auto keyword : keywords) {
    if (value == keyword) return true;
  }
  return value.find('/') != std::string_view::npos;
}

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

Config::Config() {
  for (const auto& spec : kOptions) {
    // Defaults are valid by construction (a unit test parses every default).
    (void)set_option(*this, spec, spec.default_value, "default");
  }
  origin.clear();
}

std::string Config::effective_output() const {
  if (is_set("output")) return output;
  if (!amqp_url.empty()) return amqp_url;
  if (!file_log.empty()) return file_log;
  if (!mozdef_url.empty()) return mozdef_url;
  return output;
}

Status set_option(Config& config, const OptionSpec& spec, std::string_view raw,
                  const std::string& where) {
  const std::string_view text = trim(raw);
  auto fail = [&](const std::string& why) {
    return aurelay::fail(kExitConfigError, where + ": " + std::string(spec.name) + ": " + why);
  };
  auto bad_value = [&]() {
    return fail("invalid value '" + output::redact_url_credentials(text) + "', expected " +
                type_hint(spec));
  };
  switch (spec.type) {
    case T::kString:
    case T::kPath: {
      std::string value(text);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (spec.type == T::kPath && !value.empty() && value.front() != '/' && value.front() != '.') {
        return fail("'" + value + "' is not a path (absolute, or starting with ./)");
      }
      std::get<TextMember>(spec.member)(config) = std::move(value);
      break;
    }
    case T::kBool: {
      bool value = false;
      if (!parse_bool(text, value)) return bad_value();
      std::get<FlagMember>(spec.member)(config) = value;
      break;
    }
    case T::kChoice: {
      const std::string word = lower(text);
      bool known = false;
      for (auto choice : split_choices(spec.choices)) known = known || word == choice;
      if (!known || !std::get<ChoiceMember>(spec.member).set(config, word)) return bad_value();
      break;
    }
    case T::kUnsigned:
    case T::kBytes:
    case T::kSigned: {
      std::int64_t value = 0;
      if (!parse_integer(text, spec.type == T::kBytes, value)) return bad_value();
      if (value < spec.min || value > spec.max) {
        return fail(std::string(text) + " is out of range " + range_text(spec));
      }
      std::get<NumberMember>(spec.member).set(config, value);
      break;
    }
  }
  config.origin[std::string(spec.name)] = where;
  return {};
}

Status parse_config_text(std::string_view text, const std::string& path, Config& config) {
  std::map<std::string, int, std::less<>> seen_at;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(line_number);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      return fail(kExitConfigError,
                  where + ": expected 'key = value', got '" + std::string(line) + "'");
    }
    const std::string_view key = trim(line.substr(0, equals));
    const OptionSpec* spec = key.find('-') == std::string_view::npos ? find_option(key) : nullptr;
    if (spec == nullptr) {
      return fail(kExitConfigError, where + ": unknown key '" + std::string(key) + "'");
    }
    if (auto it = seen_at.find(spec->name); it != seen_at.end()) {
      return fail(kExitConfigError, where + ": " + std::string(key) + " is already set on line " +
                                        std::to_string(it->second));
    }
    seen_at.emplace(std::string(spec->name), line_number);
    if (Status applied = set_option(config, *spec, line.substr(equals + 1), where); !applied)
      return applied;
  }
  config.config_file = path;
  return {};
}

Status load_config_file(const std::string& path, Config& config) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(kExitConfigError, path + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  std::string problem;
  if (::fstat(fd, &st) != 0) {
    problem = std::string("cannot stat: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else if ((st.st_mode & S_IWOTH) != 0) {
    problem = "is world-writable (chmod o-w)";
  } else if (::geteuid() == 0 && st.st_uid != 0) {
    problem = "is not owned by root (uid " + std::to_string(st.st_uid) +
              "); aurelay runs as root and only reads root's config";
  } else if (::geteuid() != 0 && st.st_uid != 0 && st.st_uid != ::geteuid()) {
    problem =
        "is owned by uid " + std::to_string(st.st_uid) + ", neither root nor the running user";
  }
  std::string text;
  if (problem.empty()) {
    char buffer[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = std::string("cannot read: ") + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  if (!problem.empty()) return fail(kExitConfigError, path + ": " + problem);
  return parse_config_text(text, path, config);
}

Status validate_config(const Config& config) {
  auto fail = [&](std::string_view key, const std::string& why) {
    auto it = config.origin.find(key);
    const std::string where = it == config.origin.end() ? "default" : it->second;
    return aurelay::fail(kExitConfigError, where + ": " + std::string(key) + ": " + why);
  };
  if (!is_keyword_or_path(config.input, {"netlink", "multicast", "stdin"})) {
    return fail("input", "'" + config.input +
                             "' is not netlink, multicast, stdin or a file path (write ./" +
                             config.input + " for a file in the current directory)");
  }
  // Values are quoted without their credentials.
  auto check_output = [&](std::string_view key, const std::string& value) -> Status {
    if (value.empty()) return {};
    const std::string shown = output::redact_url_credentials(value);
    if (key != "mozdef_url" && output::is_amqp_url(value)) {
      if (Result<std::vector<output::AmqpEndpoint>> parsed = output::parse_amqp_url_list(value);
          !parsed)
        return fail(key, parsed.error());
      return {};
    }
    if (key == "amqp_url") {
      return fail(key, "'" + shown + "' is not an amqp:// or amqps:// URL (or a list of them)");
    }
    if (output::is_http_url(value)) {
      if (value.size() <= value.find("//") + 2) return fail(key, "URL without a host");
      return {};
    }
    if (key == "mozdef_url" || value.find("://") != std::string::npos) {
      return fail(key, "'" + shown + "' is not an http(s):// URL" +
                           (key == "output" ? " or an amqp(s):// URL" : ""));
    }
    if (!is_keyword_or_path(value, {"stdout"})) {
      return fail(key, "'" + shown +
                           "' is not stdout, a file path, an http(s):// or an "
                           "amqp(s):// URL");
    }
    return {};
  };
  for (auto [key, value] :
       {std::pair<std::string_view, const std::string&>{"output", config.output},
        {"mozdef_url", config.mozdef_url},
        {"amqp_url", config.amqp_url}}) {
    if (Status checked = check_output(key, value); !checked) return checked;
  }
  // bulk_format against what MozDef's loginput does at the URL (output/http/bulk_format.h).
  const std::string destination = config.effective_output();
  if (config.is_set("bulk_format") && config.http.bulk_format != output::BulkFormat::single &&
      output::is_events_url(destination)) {
    return fail("bulk_format", "'" +
                                   std::string(output::bulk_format_name(config.http.bulk_format)) +
                                   "' with " + output::redact_url_credentials(destination) +
                                   ": MozDef's /events takes one JSON object per POST and "
                                   "answers 500 to an array or several lines; use single there "
                                   "(the default for an /events URL) or post to /_bulk");
  }
  if (config.http.bulk_format == output::BulkFormat::single && output::is_bulk_url(destination)) {
    return fail("bulk_format", "'single' with " + output::redact_url_credentials(destination) +
                                   ": MozDef's /_bulk reads a one-object body as a dict and "
                                   "publishes its key names, losing every event; use array or "
                                   "ndjson there, or post to /events");
  }
  if ((config.pipeline.record_batches & (config.pipeline.record_batches - 1)) != 0) {
    return fail("ring_capacity",
                std::to_string(config.pipeline.record_batches) + " is not a power of two");
  }
  if (config.delivery.retry_base_ms > config.delivery.retry_max_ms) {
    return fail("retry_base_ms", "is larger than retry_max_ms (" +
                                     std::to_string(config.delivery.retry_max_ms) + ")");
  }
  if (config.tls.client_key.empty() != config.tls.client_cert.empty()) {
    return fail(config.tls.client_key.empty() ? "ssl_client_cert" : "ssl_client_key",
                "ssl_client_cert and ssl_client_key go together");
  }
  if (config.http.curl_verbose && config.http.curl_logfile.empty()) {
    // Allowed: the trace goes to aurelay's log.
  }
  if (config.input == "stdin" && config.effective_output() == "stdout") {
    // Allowed: auditd plugin writing to stdout is odd but valid for pipelines.
  }
  return {};
}

std::string format_option_value(const Config& config, const OptionSpec& spec) {
  Config& readable = const_cast<Config&>(config);  // the accessors only read here
  if (const auto* text = std::get_if<TextMember>(&spec.member)) {
    const std::string& value = (*text)(readable);
    if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) return "\"" + value + "\"";
    return value;
  }
  if (const auto* flag = std::get_if<FlagMember>(&spec.member))
    return (*flag)(readable) ? "yes" : "no";
  if (const auto* number = std::get_if<NumberMember>(&spec.member))
    return std::to_string(number->get(config));
  return std::string(std::get<ChoiceMember>(spec.member).get(config));
}

namespace {

// Wraps `text` to `width` columns, each line starting with `prefix`.
std::string wrap(std::string_view text, std::string_view prefix, std::size_t width) {
  std::string out;
  std::string line(prefix);
  bool line_has_words = false;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (word.empty()) continue;
    if (line_has_words && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = std::string(prefix);
      line_has_words = false;
    }
    if (line_has_words) line += ' ';
    line += word;
    line_has_words = true;
  }
  if (line_has_words) out += line + "\n";
  return out;
}

std::string allowed_values(const OptionSpec& spec) {
  switch (spec.type) {
    case T::kChoice:
      return std::string(spec.choices);
    case T::kUnsigned:
    case T::kSigned:
    case T::kBytes:
      return range_text(spec);
    case T::kBool:
      return "yes|no";
    default:
      return {};
  }
}

// troff-escapes text: backslashes, leading dots and quotes, hyphens in words.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

// Backquoted `words` in descriptions become bold in the man page.
std::string roff_description(std::string_view text) {
  std::string out;
  bool inside = false;
  std::string piece;
  for (char c : text) {
    if (c == '`') {
      out += roff(piece);
      piece.clear();
      out += inside ? "\\fR" : "\\fB";
      inside = !inside;
    } else {
      piece += c;
    }
  }
  out += roff(piece);
  return out;
}

std::string plain_description(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != '`') out += c;
  }
  return out;
}

constexpr std::array kSections = {S::kInput, S::kKernel, S::kDaemon, S::kOutput,
                                  S::kHttp,  S::kAmqp,   S::kSpool};

}  // namespace

std::string render_config_file() {
  std::string out =
      "# aurelay configuration: `key = value` lines, '#' starts a comment line.\n"
      "# Generated from aurelay's option table (aurelay --dump-config); see aurelay(8).\n"
      "# Commented lines show the defaults. Command-line options (--key value) override this "
      "file.\n"
      "# The file must not be world-writable and, as aurelay runs as root, must be owned by "
      "root.\n";
  for (auto section : kSections) {
    out += "\n##### " + std::string(section_title(section)) + "\n";
    for (const auto& spec : kOptions) {
      if (spec.section != section) continue;
      out += "\n";
      out += wrap(plain_description(spec.description), "# ", 100);
      const std::string allowed = allowed_values(spec);
      if (!allowed.empty()) out += "# Allowed: " + allowed + "\n";
      const std::string value_text(spec.default_value);
      out += "#" + std::string(spec.name) + " = " + value_text + "\n";
      if (!spec.shipped_value.empty()) {
        out += std::string(spec.name) + " = " + std::string(spec.shipped_value) + "\n";
      }
    }
  }
  return out;
}

std::string render_help(std::string_view program) {
  std::string out = "Usage: " + std::string(program) +
                    " [--config FILE] [--check-config] [--OPTION VALUE]...\n"
                    "\n"
                    "Collects Linux kernel audit records, groups them into events and ships each "
                    "as a MozDef JSON document.\n"
                    "\n"
                    "  --config FILE        configuration file (default " +
                    std::string(kDefaultConfigPath) +
                    "; a missing default file means all defaults)\n"
                    "  --check-config       validate the configuration and exit\n"
                    "  --help               show this text and exit\n"
                    "  --version            show the version and exit\n"
                    "\n"
                    "Every configuration key is also an option (--key VALUE or --key=VALUE; "
                    "'-' may replace '_'),\noverriding the file:\n";
  for (auto section : kSections) {
    out += "\n" + std::string(section_title(section)) + ":\n";
    for (const auto& spec : kOptions) {
      if (spec.section != section) continue;
      std::string head = "  --" + std::string(spec.name) + " " + std::string(spec.value_name);
      std::string text = plain_description(spec.description);
      text += " [default: " +
              (spec.default_value.empty() ? std::string("none") : std::string(spec.default_value)) +
              "]";
      if (head.size() < 30) {
        head.resize(30, ' ');
        std::string wrapped = wrap(text, std::string(32, ' '), 100);
        out += head + wrapped.substr(30);
      } else {
        out += head + "\n" + wrap(text, std::string(32, ' '), 100);
      }
    }
  }
  out +=
      "\nExit status: 0 success, 1 runtime failure, 2 configuration or usage error, 3 another "
      "process\n(auditd) holds the audit pid.\n";
  return out;
}

std::string render_man_page() {
  std::string out;
  out += ".\\\" Generated from aurelay's option table (aurelay --dump-man). Do not edit.\n";
  out += ".TH AURELAY 8 \"\" \"aurelay\" \"System Administration\"\n";
  out += ".SH NAME\naurelay \\- Linux audit collector that ships events to MozDef\n";
  out +=
      ".SH SYNOPSIS\n.B aurelay\n[\\fB\\-\\-config\\fR \\fIFILE\\fR] "
      "[\\fB\\-\\-check\\-config\\fR] [\\fB\\-\\-\\fIkey\\fR \\fIvalue\\fR]...\n";
  out +=
      ".SH DESCRIPTION\n"
      "\\fBaurelay\\fR reads kernel audit records (as the audit daemon over netlink, as a "
      "multicast listener beside \\fBauditd\\fR(8), from standard input as an auditd plugin, or "
      "from a log file), groups them into events and turns each event into one MozDef JSON "
      "document, sent to a MozDef server over HTTP(S), published to MozDef's RabbitMQ (AMQP with "
      "publisher confirms), written to a file or to standard output. "
      "Documents that cannot be delivered are kept in a disk spool and sent later.\n"
      ".PP\nAt start it loads \\fIrules_file\\fR with \\fBauditctl\\fR(8) \\fB\\-R\\fR, "
      "registers as the audit daemon and, when \\fIuser\\fR is set, switches to that user "
      "keeping only CAP_AUDIT_CONTROL and CAP_AUDIT_READ.\n";
  out +=
      ".SH OPTIONS\n"
      ".TP\n\\fB\\-\\-config\\fR \\fIFILE\\fR\nConfiguration file, default "
      "\\fI/etc/aurelay/aurelay.conf\\fR. A missing default file means all defaults; a missing "
      "file given here is an error.\n"
      ".TP\n\\fB\\-\\-check\\-config\\fR\nValidate the configuration and exit.\n"
      ".TP\n\\fB\\-\\-help\\fR\nShow the options and exit.\n"
      ".TP\n\\fB\\-\\-version\\fR\nShow the version and exit.\n"
      ".PP\nEvery configuration key below is also an option, \\fB\\-\\-\\fIkey\\fR "
      "\\fIvalue\\fR, which overrides the file.\n";
  out +=
      ".SH CONFIGURATION\n"
      "The configuration file holds \\fIkey\\fR \\fB=\\fR \\fIvalue\\fR lines; lines starting "
      "with \\fB#\\fR are comments. An unknown key, a bad value, a key set twice, a "
      "world\\-writable file or (when running as root) a file not owned by root is an error "
      "naming the file and line, and aurelay exits with status 2. The keys of "
      "audisp\\-json (mozdef_url, ssl_verify, curl_verbose, curl_logfile, curl_cainfo, "
      "file_log, prepend_msg, postpend_msg) keep their meaning.\n";
  for (auto section : kSections) {
    out += ".SS " + roff(section_title(section)) + "\n";
    for (const auto& spec : kOptions) {
      if (spec.section != section) continue;
      out += ".TP\n\\fB" + roff(spec.name) + "\\fR = \\fI" + roff(spec.value_name) + "\\fR\n";
      out += roff_description(spec.description);
      const std::string allowed = allowed_values(spec);
      if (!allowed.empty()) out += " Allowed: " + roff(allowed) + ".";
      out += " Default: " +
             (spec.default_value.empty() ? std::string("empty")
                                         : "\\fB" + roff(spec.default_value) + "\\fR") +
             ".\n";
    }
  }
  out +=
      ".SH SIGNALS\n"
      ".TP\nSIGTERM, SIGINT\nStop reading, complete the events in flight, flush the output "
      "and exit; the audit pid is given back and the kernel settings restored.\n"
      ".TP\nSIGHUP\nReopen output and log files (log rotation).\n"
      ".TP\nSIGCONT\nWrite the state file (\\fBauditctl \\-\\-signal state\\fR).\n";
  out +=
      ".SH EXIT STATUS\n"
      ".TP\n0\nSuccess.\n.TP\n1\nRuntime failure.\n"
      ".TP\n2\nConfiguration or usage error (the unit does not restart).\n"
      ".TP\n3\nAnother process, usually auditd, is the audit daemon.\n";
  out +=
      ".SH FILES\n"
      ".TP\n\\fI/etc/aurelay/aurelay.conf\\fR\nConfiguration.\n"
      ".TP\n\\fI/etc/aurelay/audit.rules\\fR\nAudit rules loaded at start.\n"
      ".TP\n\\fI/run/aurelay/aurelay.state\\fR\nState file.\n"
      ".TP\n\\fI/var/lib/aurelay/spool\\fR\nDisk spool.\n";
  out += ".SH SEE ALSO\n\\fBauditctl\\fR(8), \\fBaudit.rules\\fR(7), \\fBauditd\\fR(8)\n";
  return out;
}

std::string render_effective_config(const Config& config) {
  std::string out;
  for (const auto& spec : kOptions) {
    out += std::string(spec.name) + " = " +
           output::redact_url_credentials(format_option_value(config, spec));
    auto it = config.origin.find(spec.name);
    if (it != config.origin.end()) out += "  # " + it->second;
    out += "\n";
  }
  return out;
}

}  // namespace aurelay::collector
