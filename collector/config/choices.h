// The values of the collector's choice options (the option table in collector/config/config.cpp
// parses them; the enums of the output side live beside their components:
// output/http/bulk_format.h, output/spool.h). Each enum has its names, the table's list of values
// and its one default.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "base/choice.h"

namespace aurelay::collector {

// queue_full_action: when the ring between reader and correlator is full.
enum class QueueFullAction : std::uint8_t {
  block,  // stop reading until the correlator catches up (the kernel backlog absorbs bursts)
  drop,   // keep reading and count the records that found no room
};
inline constexpr std::array kQueueFullActionNames = {
    ChoiceName<QueueFullAction>{"block", QueueFullAction::block},
    ChoiceName<QueueFullAction>{"drop", QueueFullAction::drop},
};
inline constexpr std::string_view kQueueFullActionChoices = "block|drop";
inline constexpr QueueFullAction kDefaultQueueFullAction = QueueFullAction::block;
static_assert(choices_list_names(kQueueFullActionChoices, kQueueFullActionNames));

// enabled: the kernel audit state set at start (auditctl -e).
enum class KernelEnabled : std::uint8_t { enable, disable, keep };
inline constexpr std::array kKernelEnabledNames = {
    ChoiceName<KernelEnabled>{"1", KernelEnabled::enable},
    ChoiceName<KernelEnabled>{"0", KernelEnabled::disable},
    ChoiceName<KernelEnabled>{"keep", KernelEnabled::keep},
};
inline constexpr std::string_view kKernelEnabledChoices = "1|0|keep";
inline constexpr KernelEnabled kDefaultKernelEnabled = KernelEnabled::enable;
static_assert(choices_list_names(kKernelEnabledChoices, kKernelEnabledNames));

// rules_missing_auditctl: what to do when auditctl is not installed.
enum class RulesMissingAuditctl : std::uint8_t { error, skip };
inline constexpr std::array kRulesMissingAuditctlNames = {
    ChoiceName<RulesMissingAuditctl>{"error", RulesMissingAuditctl::error},
    ChoiceName<RulesMissingAuditctl>{"skip", RulesMissingAuditctl::skip},
};
inline constexpr std::string_view kRulesMissingAuditctlChoices = "error|skip";
inline constexpr RulesMissingAuditctl kDefaultRulesMissingAuditctl = RulesMissingAuditctl::error;
static_assert(choices_list_names(kRulesMissingAuditctlChoices, kRulesMissingAuditctlNames));

// rules_errors: what a rules_file line that fails to load does.
enum class RulesErrors : std::uint8_t { follow_file, fatal };
inline constexpr std::array kRulesErrorsNames = {
    ChoiceName<RulesErrors>{"follow_file", RulesErrors::follow_file},
    ChoiceName<RulesErrors>{"fatal", RulesErrors::fatal},
};
inline constexpr std::string_view kRulesErrorsChoices = "follow_file|fatal";
inline constexpr RulesErrors kDefaultRulesErrors = RulesErrors::follow_file;
static_assert(choices_list_names(kRulesErrorsChoices, kRulesErrorsNames));

// filter_action: what becomes of an event a filter takes.
enum class FilterAction : std::uint8_t {
  drop,  // counted, never encoded
  file,  // encoded and written to filter_file instead of the output
};
inline constexpr std::array kFilterActionNames = {
    ChoiceName<FilterAction>{"drop", FilterAction::drop},
    ChoiceName<FilterAction>{"file", FilterAction::file},
};
inline constexpr std::string_view kFilterActionChoices = "drop|file";
inline constexpr FilterAction kDefaultFilterAction = FilterAction::drop;
static_assert(choices_list_names(kFilterActionChoices, kFilterActionNames));

// log_level: the least severe message logged.
enum class LogLevel : std::uint8_t { trace, debug, info, warn, error, critical, off };
inline constexpr std::array kLogLevelNames = {
    ChoiceName<LogLevel>{"trace", LogLevel::trace},
    ChoiceName<LogLevel>{"debug", LogLevel::debug},
    ChoiceName<LogLevel>{"info", LogLevel::info},
    ChoiceName<LogLevel>{"warn", LogLevel::warn},
    ChoiceName<LogLevel>{"error", LogLevel::error},
    ChoiceName<LogLevel>{"critical", LogLevel::critical},
    ChoiceName<LogLevel>{"off", LogLevel::off},
};
inline constexpr std::string_view kLogLevelChoices = "trace|debug|info|warn|error|critical|off";
inline constexpr LogLevel kDefaultLogLevel = LogLevel::info;
static_assert(choices_list_names(kLogLevelChoices, kLogLevelNames));

// log_target: where aurelay's own messages go.
enum class LogTarget : std::uint8_t { automatic, stderr_stream, syslog, journal };
inline constexpr std::array kLogTargetNames = {
    ChoiceName<LogTarget>{"auto", LogTarget::automatic},
    ChoiceName<LogTarget>{"stderr", LogTarget::stderr_stream},
    ChoiceName<LogTarget>{"syslog", LogTarget::syslog},
    ChoiceName<LogTarget>{"journal", LogTarget::journal},
};
inline constexpr std::string_view kLogTargetChoices = "auto|stderr|syslog|journal";
inline constexpr LogTarget kDefaultLogTarget = LogTarget::automatic;
static_assert(choices_list_names(kLogTargetChoices, kLogTargetNames));

}  // namespace aurelay::collector
