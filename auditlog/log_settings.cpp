#include "auditlog/log_settings.h"

#include <charconv>
#include <limits>

#include "base/text.h"

namespace aurelay::auditlog {

namespace {

// auditd.conf's values are separated by blanks (spaces and tabs).
constexpr std::string_view kBlanks = " \t";

}  // namespace

Result<DiskAction> parse_disk_action(std::string_view text, bool rotate_allowed) {
  text = trim(text, kBlanks);
  const std::size_t blank = text.find_first_of(" \t");
  const std::string word = lower_ascii(text.substr(0, blank));
  const std::string_view rest =
      blank == std::string_view::npos ? std::string_view() : trim(text.substr(blank), kBlanks);
  if (word == "exec") {
    if (rest.empty() || rest.front() != '/') {
      return fail("'" + std::string(text) +
                  "': exec needs the absolute path of a program, e.g. "
                  "exec /usr/local/sbin/audit-disk-full");
    }
    return DiskAction{DiskActionKind::exec, std::string(rest)};
  }
  if (!rest.empty()) return fail("'" + std::string(text) + "': only exec takes a program");
  const auto kind = parse_choice(kDiskActionKindNames, word);
  if (kind && (*kind != DiskActionKind::rotate || rotate_allowed)) return DiskAction{*kind, {}};
  if (word == "email") {
    return fail(
        "'email' is not supported (aurelay sends no mail): use syslog, or exec a script "
        "that mails");
  }
  return fail("'" + std::string(text) + "' is not one of ignore, syslog, " +
              (rotate_allowed ? "rotate, " : "") + "exec /path, suspend, single, halt");
}

std::uint64_t SpaceThreshold::bytes(std::uint64_t total_bytes) const {
  if (percent) return total_bytes / 100 * value + total_bytes % 100 * value / 100;
  return value * 1024 * 1024;
}

Result<SpaceThreshold> parse_space_threshold(std::string_view text) {
  text = trim(text, kBlanks);
  SpaceThreshold threshold;
  if (!text.empty() && text.back() == '%') {
    threshold.percent = true;
    text.remove_suffix(1);
  }
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), threshold.value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return fail("'" + std::string(text) + (threshold.percent ? "%" : "") +
                "' is not a number of megabytes or a percentage (75, 25%)");
  }
  if (threshold.percent && threshold.value > 99) {
    return fail(std::to_string(threshold.value) + "% is not a percentage below 100");
  }
  if (!threshold.percent && threshold.value > std::numeric_limits<std::uint64_t>::max() >> 20) {
    return fail(std::to_string(threshold.value) + " megabytes is too large");
  }
  return threshold;
}

Result<LogPolicy> parse_log_policy(const AuditLogConfig& config) {
  LogPolicy policy;
  auto threshold = [](std::string_view key, std::string_view text, SpaceThreshold& out) -> Status {
    auto parsed = parse_space_threshold(text);
    if (!parsed) return parsed.failure(std::string(key) + ": ");
    out = *parsed;
    return {};
  };
  auto action = [](std::string_view key, std::string_view text, DiskAction& out,
                   bool rotate_allowed) -> Status {
    auto parsed = parse_disk_action(text, rotate_allowed);
    if (!parsed) return parsed.failure(std::string(key) + ": ");
    out = *parsed;
    return {};
  };
  for (const Status& step : {
           threshold("space_left", config.space_left, policy.space_left),
           action("space_left_action", config.space_left_action, policy.space_left_action, true),
           threshold("admin_space_left", config.admin_space_left, policy.admin_space_left),
           action("admin_space_left_action", config.admin_space_left_action,
                  policy.admin_space_left_action, true),
           action("disk_full_action", config.disk_full_action, policy.disk_full_action, true),
           action("disk_error_action", config.disk_error_action, policy.disk_error_action, false),
       }) {
    if (!step) return step.failure();
  }
  return policy;
}

}  // namespace aurelay::auditlog
