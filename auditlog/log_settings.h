// What the local audit log is configured with: auditd.conf's keys, names, values and defaults
// (auditd.conf(5) of auditd 3.0.9). The collector's option table writes an AuditLogConfig; the
// actions and thresholds that are text in auditd.conf ("exec /path", "25%") are parsed here, once
// at start (the config check calls the same parsers, so a bad value never reaches the log).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/choice.h"
#include "base/result.h"

namespace aurelay::auditlog {

// log_format
enum class LogFormat : std::uint8_t { raw, enriched };
inline constexpr std::array kLogFormatNames = {
    ChoiceName<LogFormat>{"raw", LogFormat::raw},
    ChoiceName<LogFormat>{"enriched", LogFormat::enriched},
};
inline constexpr std::string_view kLogFormatChoices = "raw|enriched";
inline constexpr LogFormat kDefaultLogFormat = LogFormat::enriched;

// flush: when written records are pushed to the disk.
enum class FlushMode : std::uint8_t { none, incremental, incremental_async, data, sync };
inline constexpr std::array kFlushModeNames = {
    ChoiceName<FlushMode>{"none", FlushMode::none},
    ChoiceName<FlushMode>{"incremental", FlushMode::incremental},
    ChoiceName<FlushMode>{"incremental_async", FlushMode::incremental_async},
    ChoiceName<FlushMode>{"data", FlushMode::data},
    ChoiceName<FlushMode>{"sync", FlushMode::sync},
};
inline constexpr std::string_view kFlushModeChoices =
    "none|incremental|incremental_async|data|sync";
inline constexpr FlushMode kDefaultFlushMode = FlushMode::incremental_async;

// max_log_file_action: what reaching max_log_file does.
enum class SizeAction : std::uint8_t { ignore, syslog, suspend, rotate, keep_logs };
inline constexpr std::array kSizeActionNames = {
    ChoiceName<SizeAction>{"ignore", SizeAction::ignore},
    ChoiceName<SizeAction>{"syslog", SizeAction::syslog},
    ChoiceName<SizeAction>{"suspend", SizeAction::suspend},
    ChoiceName<SizeAction>{"rotate", SizeAction::rotate},
    ChoiceName<SizeAction>{"keep_logs", SizeAction::keep_logs},
};
inline constexpr std::string_view kSizeActionChoices = "ignore|syslog|suspend|rotate|keep_logs";
inline constexpr SizeAction kDefaultSizeAction = SizeAction::rotate;

// name_format: the node= prefix of every line.
enum class NameFormat : std::uint8_t { none, hostname, fqd, numeric, user };
inline constexpr std::array kNameFormatNames = {
    ChoiceName<NameFormat>{"none", NameFormat::none},
    ChoiceName<NameFormat>{"hostname", NameFormat::hostname},
    ChoiceName<NameFormat>{"fqd", NameFormat::fqd},
    ChoiceName<NameFormat>{"numeric", NameFormat::numeric},
    ChoiceName<NameFormat>{"user", NameFormat::user},
};
inline constexpr std::string_view kNameFormatChoices = "none|hostname|fqd|numeric|user";
inline constexpr NameFormat kDefaultNameFormat = NameFormat::none;

inline constexpr std::uint32_t kDefaultFreq = 50;
inline constexpr std::uint64_t kDefaultMaxLogFileMib = 8;
inline constexpr std::uint32_t kDefaultNumLogs = 5;

// The keys as auditd.conf spells them; `auditd_conf` takes exactly these from auditd's file.
inline constexpr std::array<std::string_view, 17> kAuditdConfKeys = {"write_logs",
                                                                     "log_file",
                                                                     "log_format",
                                                                     "log_group",
                                                                     "flush",
                                                                     "freq",
                                                                     "max_log_file",
                                                                     "num_logs",
                                                                     "max_log_file_action",
                                                                     "space_left",
                                                                     "space_left_action",
                                                                     "admin_space_left",
                                                                     "admin_space_left_action",
                                                                     "disk_full_action",
                                                                     "disk_error_action",
                                                                     "name_format",
                                                                     "name"};

struct AuditLogConfig {
  bool write_logs = false;  // the built-in default; the shipped aurelay.conf turns it on
  std::string log_file = "/var/log/audit/audit.log";
  LogFormat format = kDefaultLogFormat;
  std::string log_group = "root";
  FlushMode flush = kDefaultFlushMode;
  std::uint32_t freq = kDefaultFreq;  // records between flushes (incremental modes)
  std::uint64_t max_log_file_mib = kDefaultMaxLogFileMib;
  std::uint32_t num_logs = kDefaultNumLogs;
  SizeAction max_log_file_action = kDefaultSizeAction;
  // Text as in auditd.conf: megabytes or a percentage of the file system ("25%"); an action
  // word or "exec /path/to/script".
  std::string space_left = "75";
  std::string space_left_action = "syslog";
  std::string admin_space_left = "50";
  std::string admin_space_left_action = "suspend";
  std::string disk_full_action = "suspend";
  std::string disk_error_action = "suspend";
  NameFormat name_format = kDefaultNameFormat;
  std::string name;  // name_format = user
};

// A disk-space or disk-error action.
enum class DiskActionKind : std::uint8_t { ignore, syslog, rotate, exec, suspend, single, halt };
inline constexpr std::array kDiskActionKindNames = {
    ChoiceName<DiskActionKind>{"ignore", DiskActionKind::ignore},
    ChoiceName<DiskActionKind>{"syslog", DiskActionKind::syslog},
    ChoiceName<DiskActionKind>{"rotate", DiskActionKind::rotate},
    ChoiceName<DiskActionKind>{"exec", DiskActionKind::exec},
    ChoiceName<DiskActionKind>{"suspend", DiskActionKind::suspend},
    ChoiceName<DiskActionKind>{"single", DiskActionKind::single},
    ChoiceName<DiskActionKind>{"halt", DiskActionKind::halt},
};
struct DiskAction {
  DiskActionKind kind = DiskActionKind::ignore;
  std::string exe;  // exec
};

// "ignore", "SYSLOG", "exec /usr/local/sbin/audit-full", … (case as auditd: any). `rotate` is
// not one of disk_error_action's values (as in auditd).
Result<DiskAction> parse_disk_action(std::string_view text, bool rotate_allowed = true);

// space_left and admin_space_left: megabytes, or a percentage of the file system's size.
struct SpaceThreshold {
  std::uint64_t value = 0;
  bool percent = false;
  // The threshold in bytes for a file system of `total_bytes`.
  std::uint64_t bytes(std::uint64_t total_bytes) const;
};
Result<SpaceThreshold> parse_space_threshold(std::string_view text);

// Every text value of `config` parsed; a failure names the key: "space_left_action: …".
struct LogPolicy {
  SpaceThreshold space_left;
  DiskAction space_left_action;
  SpaceThreshold admin_space_left;
  DiskAction admin_space_left_action;
  DiskAction disk_full_action;
  DiskAction disk_error_action;
};
Result<LogPolicy> parse_log_policy(const AuditLogConfig& config);

}  // namespace aurelay::auditlog
