// aurelay's configuration: one declarative table of options drives parsing (config file and
// command line), validation, --help, the shipped commented aurelay.conf and the aurelay(8) man
// page. The file format is auditd.conf's: `key = value` lines, '#' starts a comment line.
//
// Errors are values: every loader returns a Status whose error() names the file and line (or the
// option) and whose exit code is kExitConfigError.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auditlog/log_settings.h"
#include "base/result.h"
#include "collector/config/choices.h"
#include "collector/pipeline_config.h"
#include "netlink/audit_socket.h"
#include "output/amqp/amqp_transport.h"
#include "output/delivery_engine.h"
#include "output/file/file_sink.h"
#include "output/http/http_transport.h"
#include "output/tls_config.h"

namespace aurelay::collector {

// The process exit codes (kExitOk, kExitConfigError, ...) are in base/result.h: a failure
// carries the one it ends the process with.

inline constexpr std::string_view kDefaultConfigPath = "/etc/aurelay/aurelay.conf";

// Size suffixes of kBytes options (K, M, G: binary multiples).
inline constexpr std::int64_t kKiB = 1024;
inline constexpr std::int64_t kMiB = 1024 * kKiB;
inline constexpr std::int64_t kGiB = 1024 * kMiB;

// Every value aurelay can be configured with. A default-constructed Config holds the table's
// defaults. Integers that say "-1 = keep" leave the kernel setting as found.
struct Config {
  Config();  // applies the defaults of the option table
  // Only the members' own initializers (the component structs' defaults), no table: tests
  // compare the two.
  struct StructDefaults {};
  static constexpr StructDefaults kStructDefaults{};
  explicit Config(StructDefaults) {}

  // The option table (config.cpp) writes each option where it is used: into the config struct
  // of the component it configures when it has one (pipeline, data_socket, file, http, amqp,
  // tls, delivery), flat here otherwise (what the daemon applies itself). The daemon hands the
  // components these structs at start, filling in what only it knows (marked "at start").

  // input
  std::string input;                       // netlink | multicast | stdin | a file path
  netlink::DataSocketOptions data_socket;  // receive_buffer_bytes (mode: from input, at start)
  // ring_capacity, queue_full_action, eoe_timeout_ms, max_in_flight, hostname (empty =
  // gethostname() at start), shipper_name, tags, max_value_bytes, process_table_size
  PipelineConfig pipeline;

  // kernel (-1 = leave as found)
  std::int64_t backlog_limit = 8192;
  std::int64_t backlog_wait_time = -1;
  std::int64_t rate_limit = -1;
  KernelEnabled enabled = kDefaultKernelEnabled;
  std::string rules_file;
  std::string rules_dir;  // set: replaces rules_file (augenrules' merge of *.rules)
  std::string auditctl;
  RulesMissingAuditctl rules_missing_auditctl = kDefaultRulesMissingAuditctl;
  RulesErrors rules_errors = kDefaultRulesErrors;
  bool rules_repair = true;  // load again what someone else deletes

  // daemon
  std::string user;  // empty = stay root
  std::string state_file;
  std::string serial_file;  // the last serial read, for the restart gap (restart_gap.h)
  std::uint64_t report_interval = 60;
  std::string metrics_file;  // Prometheus text exposition; empty = none
  LogLevel log_level = kDefaultLogLevel;
  LogTarget log_target = kDefaultLogTarget;

  // local audit log: auditd.conf's keys (write_logs … name), and an auditd.conf to take them
  // from; the keys of that file aurelay does not use (named once at start)
  auditlog::AuditLogConfig audit_log;
  std::string auditd_conf;
  std::vector<std::string> auditd_conf_ignored;

  // output
  std::string output;           // stdout | FILE | http(s)://URL | amqp(s)://URL[,…]
  std::string mozdef_url;       // audisp-json
  std::string file_log;         // audisp-json
  output::FileSinkConfig file;  // prepend_msg, postpend_msg (audisp-json; path: at start)

  // http: http_max_inflight, bulk_format, curl_verbose, curl_logfile (url, credentials, tls and
  // delivery: at start)
  output::HttpSinkConfig http;
  std::string http_credentials_file;
  output::TlsConfig tls;  // ssl_verify, curl_cainfo, ssl_client_cert, ssl_client_key (HTTPS, AMQPS)

  // amqp: amqp_exchange, amqp_routing_key, amqp_queue, amqp_declare, amqp_confirm_window (urls,
  // tls and delivery: at start)
  std::string amqp_url;  // comma-separated amqp[s]:// URLs (a cluster)
  output::AmqpSinkConfig amqp;

  // batch_*, retry_*, spool_*, dead_letter_file: the delivery engine's, for HTTP and AMQP
  output::DeliveryConfig delivery;

  // Where each explicitly set key came from ("FILE:LINE" or "command line"); keys left at their
  // defaults are absent.
  std::map<std::string, std::string, std::less<>> origin;
  // The config file that was read, empty when none was (missing default file).
  std::string config_file;

  bool is_set(std::string_view key) const { return origin.contains(key); }

  // Where documents go: `output` when set explicitly, else `amqp_url`, else audisp-json's
  // `file_log`, else its `mozdef_url`, else `output`'s default (stdout).
  std::string effective_output() const;
};

enum class OptionType { kString, kPath, kBool, kUnsigned, kBytes, kSigned, kChoice };

enum class OptionSection { kInput, kKernel, kDaemon, kAuditLog, kOutput, kHttp, kAmqp, kSpool };

// Where an option's value lives in Config: an accessor made by the table from the member's path
// (which may reach into a component's struct, e.g. pipeline.encoder.tags), one kind per type.
using TextMember = std::string& (*)(Config& config);
using FlagMember = bool& (*)(Config& config);
// Any integer or std::chrono::milliseconds member, read and written as an int64 (the table's
// min and max keep the value within the member's type).
struct NumberMember {
  void (*set)(Config& config, std::int64_t value);
  std::int64_t (*get)(const Config& config);
};
// A kChoice option: its enum member, written and read through the enum's names
// (base/choice.h), so the text of a value is translated in this one place.
struct ChoiceMember {
  bool (*set)(Config& config, std::string_view name);  // false: not one of the names
  std::string_view (*get)(const Config& config);
  std::string_view choices;  // the enum's list "a|b|c"; equals OptionSpec::choices
};

using ConfigMember = std::variant<TextMember, FlagMember, NumberMember, ChoiceMember>;

struct OptionSpec {
  std::string_view name;
  OptionType type;
  OptionSection section;
  std::string_view default_value;  // textual, parsed like a value from the file
  std::int64_t min = 0;            // kUnsigned, kBytes, kSigned
  std::int64_t max = 0;
  std::string_view choices;     // kChoice: "a|b|c"
  std::string_view value_name;  // for --help: URL, N, PATH …
  std::string_view description;
  ConfigMember member;
  // Value the shipped aurelay.conf sets (an active line); empty = the line shows the default,
  // commented out.
  std::string_view shipped_value = {};
};

// The option table, in documentation order.
std::span<const OptionSpec> option_table();
const OptionSpec* find_option(std::string_view name);  // accepts '-' for '_'
std::string_view section_title(OptionSection section);

// The loaders below fail with kExitConfigError and an error() of the form "FILE:LINE: message"
// or "WHERE: option: message" (WHERE: the file and line, "command line" or "default").

// Parses `text` for `spec` and stores it in `config`. `where` prefixes the error.
Status set_option(Config& config, const OptionSpec& spec, std::string_view text,
                  const std::string& where);

// Reads a config file into `config` (over what it holds). Checks the file first the way auditd
// checks auditd.conf: a regular file, not world-writable, owned by root when running as root
// (by root or the running user otherwise). Duplicate keys are an error.
Status load_config_file(const std::string& path, Config& config);

// Parses config file text (no permission checks); `path` is used in error messages.
Status parse_config_text(std::string_view text, const std::string& path, Config& config);

// Checks that hold across options (retry_base_ms <= retry_max_ms, ring_capacity a power of two,
// input/output forms …). Run after all sources are merged.
Status validate_config(const Config& config);

// auditd_conf: takes the local audit log's keys (auditlog::kAuditdConfKeys) from that file where
// aurelay's config and command line left them unset; the file's other keys are listed in
// auditd_conf_ignored. A bad value fails naming the file and line.
Status apply_auditd_conf(Config& config);

// The range a numeric option accepts, "[min, max]" (messages and generated documents).
std::string range_text(const OptionSpec& spec);

// The current value of an option as config-file text.
std::string format_option_value(const Config& config, const OptionSpec& spec);

// Generated documents.
std::string render_config_file();                   // the shipped, commented aurelay.conf
std::string render_man_page();                      // aurelay.8 (troff)
std::string render_help(std::string_view program);  // --help
// Every option with its current value, as a config file (for --check-config -v and logs).
std::string render_effective_config(const Config& config);

}  // namespace aurelay::collector
