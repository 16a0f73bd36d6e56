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

#include "base/result.h"
#include "collector/config/choices.h"
#include "output/http/bulk_format.h"
#include "output/spool.h"

namespace aurelay::collector {

// The process exit codes (kExitOk, kExitConfigError, ...) are in base/result.h: a failure
// carries the one it ends the process with.

inline constexpr std::string_view kDefaultConfigPath = "/etc/aurelay/aurelay.conf";

// Every value aurelay can be configured with. A default-constructed Config holds the table's
// defaults. Integers that say "-1 = keep" leave the kernel setting as found.
struct Config {
  Config();  // applies the defaults of the option table

  // input
  std::string input;  // netlink | multicast | stdin | a file path
  std::uint64_t receive_buffer_bytes = 0;
  QueueFullAction queue_full_action = kDefaultQueueFullAction;
  std::uint64_t ring_capacity = 0;
  std::uint64_t eoe_timeout_ms = 0;
  std::uint64_t max_in_flight = 0;
  std::string hostname;  // empty = gethostname()

  // kernel
  std::int64_t backlog_limit = 0;
  std::int64_t backlog_wait_time = 0;
  std::int64_t rate_limit = 0;
  KernelEnabled enabled = kDefaultKernelEnabled;
  std::string rules_file;
  std::string auditctl;
  RulesMissingAuditctl rules_missing_auditctl = kDefaultRulesMissingAuditctl;
  RulesErrors rules_errors = kDefaultRulesErrors;

  // daemon
  std::string user;  // empty = stay root
  std::string state_file;
  std::uint64_t report_interval = 0;
  std::string metrics_file;  // Prometheus text exposition; empty = none
  LogLevel log_level = kDefaultLogLevel;
  LogTarget log_target = kDefaultLogTarget;

  // output
  std::string output;        // stdout | FILE | http(s)://URL | amqp(s)://URL[,…]
  std::string mozdef_url;    // audisp-json
  std::string file_log;      // audisp-json
  std::string prepend_msg;   // audisp-json
  std::string postpend_msg;  // audisp-json
  std::string shipper_name;  // top-level processname of every document
  std::string tags;          // comma separated
  std::uint64_t max_value_bytes = 0;
  std::uint64_t process_table_size = 0;

  // http
  std::uint64_t http_max_inflight = 0;
  output::BulkFormat bulk_format = output::kDefaultBulkFormat;
  std::uint64_t batch_max_events = 0;
  std::uint64_t batch_max_bytes = 0;
  std::uint64_t batch_flush_ms = 0;
  std::uint64_t retry_base_ms = 0;
  std::uint64_t retry_max_ms = 0;
  bool ssl_verify = true;   // audisp-json
  std::string curl_cainfo;  // audisp-json
  std::string ssl_client_cert;
  std::string ssl_client_key;
  bool curl_verbose = false;  // audisp-json
  std::string curl_logfile;   // audisp-json
  std::string http_credentials_file;

  // amqp
  std::string amqp_url;  // comma-separated amqp[s]:// URLs (a cluster)
  std::string amqp_exchange;
  std::string amqp_routing_key;
  std::string amqp_queue;
  AmqpDeclare amqp_declare = kDefaultAmqpDeclare;
  std::uint64_t amqp_confirm_window = 0;

  // spool
  std::string spool_dir;
  std::uint64_t spool_max_bytes = 0;
  output::SpoolFullAction spool_full_action = output::kDefaultSpoolFullAction;
  output::SpoolFsync spool_fsync = output::kDefaultSpoolFsync;
  std::string dead_letter_file;

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

enum class OptionSection { kInput, kKernel, kDaemon, kOutput, kHttp, kAmqp, kSpool };

// Where a kChoice option lives: its enum member, written and read through the enum's names
// (base/choice.h), so the text of a value is translated in this one place.
struct ChoiceMember {
  bool (*set)(Config& config, std::string_view name);  // false: not one of the names
  std::string_view (*get)(const Config& config);
  std::string_view choices;  // the enum's list "a|b|c"; equals OptionSpec::choices
};

using ConfigMember = std::variant<std::string Config::*, std::uint64_t Config::*,
                                  std::int64_t Config::*, bool Config::*, ChoiceMember>;

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

// The current value of an option as config-file text.
std::string format_option_value(const Config& config, const OptionSpec& spec);

// Generated documents.
std::string render_config_file();                   // the shipped, commented aurelay.conf
std::string render_man_page();                      // aurelay.8 (troff)
std::string render_help(std::string_view program);  // --help
// Every option with its current value, as a config file (for --check-config -v and logs).
std::string render_effective_config(const Config& config);

}  // namespace aurelay::collector
