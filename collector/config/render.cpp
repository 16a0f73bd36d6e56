// The documents generated from the option table: the shipped aurelay.conf, the aurelay(8) man
// page, --help and the effective configuration (--check-config -v).
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

}  // namespace

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

constexpr std::array kSections = {S::kInput,  S::kKernel, S::kDaemon, S::kAuditLog,
                                  S::kOutput, S::kHttp,   S::kAmqp,   S::kSpool};

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
    for (const auto& spec : option_table()) {
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
    for (const auto& spec : option_table()) {
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
    for (const auto& spec : option_table()) {
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
  for (const auto& spec : option_table()) {
    out += std::string(spec.name) + " = " +
           output::redact_url_credentials(format_option_value(config, spec));
    auto it = config.origin.find(spec.name);
    if (it != config.origin.end()) out += "  # " + it->second;
    out += "\n";
  }
  return out;
}

}  // namespace aurelay::collector
