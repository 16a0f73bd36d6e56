#include "collector/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/text.h"
#include "correlate/event_assembler.h"
#include "correlate/event_filter.h"
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
  const std::string word = lower_ascii(text);
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
  if (number > 0 && number > std::numeric_limits<std::int64_t>::max() / multiplier) return false;
  if (number < 0 && multiplier != 1) return false;
  value = number * multiplier;
  return true;
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

std::string range_text(const OptionSpec& spec) {
  return std::to_string(spec.min) + ".." + std::to_string(spec.max);
}

Config::Config() {
  for (const auto& spec : option_table()) {
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
      const std::string word = lower_ascii(text);
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

namespace {

// One `key = value` line of a config file.
struct Setting {
  std::string_view key;  // trimmed
  std::string_view value;
  std::string where;  // "PATH:LINE"
  int line = 0;
};

// Calls take(Setting) for each `key = value` line of `text` in order (blank lines and '#'
// comments skipped) until it fails; a line without '=' fails naming its place.
template <typename Take>
Status for_each_setting(std::string_view text, const std::string& path, Take take) {
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::string where = path + ":" + std::to_string(line_number);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      return fail(kExitConfigError,
                  where + ": expected 'key = value', got '" + std::string(line) + "'");
    }
    if (Status taken = take(Setting{trim(line.substr(0, equals)), line.substr(equals + 1),
                                    std::move(where), line_number});
        !taken) {
      return taken;
    }
  }
  return {};
}

}  // namespace

Status parse_config_text(std::string_view text, const std::string& path, Config& config) {
  std::map<std::string, int, std::less<>> seen_at;
  Status parsed = for_each_setting(text, path, [&](const Setting& setting) -> Status {
    const std::string_view key = setting.key;
    const OptionSpec* spec = key.find('-') == std::string_view::npos ? find_option(key) : nullptr;
    if (spec == nullptr) {
      return fail(kExitConfigError, setting.where + ": unknown key '" + std::string(key) + "'");
    }
    if (auto it = seen_at.find(spec->name); it != seen_at.end()) {
      return fail(kExitConfigError, setting.where + ": " + std::string(key) +
                                        " is already set on line " + std::to_string(it->second));
    }
    seen_at.emplace(std::string(spec->name), setting.line);
    return set_option(config, *spec, setting.value, setting.where);
  });
  if (!parsed) return parsed;
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

namespace {

// The local audit log's keys whose values are text in auditd.conf (thresholds and actions),
// checked with the parsers the log itself uses, and auditd's own sanity checks.
template <typename Fail>
Status validate_audit_log(const Config& config, Fail fail) {
  const auditlog::AuditLogConfig& log = config.audit_log;
  using auditlog::parse_disk_action;
  using auditlog::parse_space_threshold;
  for (auto [key, text] :
       {std::pair<std::string_view, const std::string&>{"space_left", log.space_left},
        {"admin_space_left", log.admin_space_left}}) {
    if (auto parsed = parse_space_threshold(text); !parsed) return fail(key, parsed.error());
  }
  for (auto [key, text] :
       {std::pair<std::string_view, const std::string&>{"space_left_action", log.space_left_action},
        {"admin_space_left_action", log.admin_space_left_action},
        {"disk_full_action", log.disk_full_action},
        {"disk_error_action", log.disk_error_action}}) {
    if (auto parsed = parse_disk_action(text, key != "disk_error_action"); !parsed)
      return fail(key, parsed.error());
  }
  const auto space = *parse_space_threshold(log.space_left);
  const auto admin = *parse_space_threshold(log.admin_space_left);
  if (space.percent == admin.percent && space.value <= admin.value) {
    return fail("space_left", "must be more than admin_space_left (" + log.admin_space_left +
                                  "), as auditd requires");
  }
  if (log.write_logs && log.log_file.empty()) return fail("log_file", "is empty");
  if (log.name_format == auditlog::NameFormat::user && log.name.empty()) {
    return fail("name", "name_format = user needs a name");
  }
  return {};
}

}  // namespace

Status apply_auditd_conf(Config& config) {
  config.auditd_conf_ignored.clear();
  if (config.auditd_conf.empty()) return {};
  const std::string& path = config.auditd_conf;
  std::ifstream file(path);
  if (!file) {
    return fail(kExitConfigError, path + ": cannot open (auditd_conf): " + std::strerror(errno));
  }
  std::stringstream text;
  text << file.rdbuf();
  return for_each_setting(text.str(), path, [&](const Setting& setting) -> Status {
    const bool used = std::find(auditlog::kAuditdConfKeys.begin(), auditlog::kAuditdConfKeys.end(),
                                setting.key) != auditlog::kAuditdConfKeys.end();
    if (!used) {
      config.auditd_conf_ignored.emplace_back(setting.key);
      return {};
    }
    if (config.is_set(setting.key)) return {};  // aurelay's own setting wins
    return set_option(config, *find_option(setting.key), setting.value, setting.where);
  });
}

Status validate_config(const Config& config) {
  auto fail = [&](std::string_view key, const std::string& why) {
    auto it = config.origin.find(key);
    const std::string where = it == config.origin.end() ? "default" : it->second;
    return aurelay::fail(kExitConfigError, where + ": " + std::string(key) + ": " + why);
  };
  if (config.is_set("rules_file") && config.is_set("rules_dir") && !config.rules_file.empty() &&
      !config.rules_dir.empty()) {
    return fail("rules_dir",
                "set rules_file or rules_dir, not both (rules_file = " + config.rules_file + ")");
  }

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
  if (Result<std::unique_ptr<correlate::EventFilter>> filter =
          correlate::EventFilter::build(config.pipeline.filter);
      !filter) {
    // "filter_syscalls: unknown syscall 'x'": the option's name, then why.
    const std::string& error = filter.error();
    const std::size_t colon = error.find(": ");
    return fail(error.substr(0, colon), error.substr(colon + 2));
  }
  if (config.pipeline.filter_action == FilterAction::file && config.pipeline.filter_file.empty()) {
    return fail("filter_file", "filter_action = file needs a filter_file");
  }
  return validate_audit_log(config, fail);
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

}  // namespace aurelay::collector
