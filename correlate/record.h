// The audit record model: one kernel audit record, parsed without copying.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace aurelay::correlate {

// MAX_AUDIT_MESSAGE_LENGTH in the kernel: the largest record payload.
inline constexpr std::size_t kMaxRecordPayload = 8970;

// Record types the correlator treats specially (linux/audit.h).
enum RecordType : std::uint32_t {
  kTypeLogin = 1006,
  kTypeReplace = 1329,  // AUDIT_REPLACE: a probe from the kernel, never an event
  kTypeSyscall = 1300,
  kTypePath = 1302,
  kTypeSockaddr = 1306,
  kTypeCwd = 1307,
  kTypeExecve = 1309,
  kTypeEoe = 1320,
  kTypeProctitle = 1327,
};

// Identifies an event: records with equal keys belong to the same event.
// `node` views storage owned by whoever owns the record text.
struct EventKey {
  std::uint64_t sec = 0;
  std::uint32_t msec = 0;
  std::uint64_t serial = 0;
  std::string_view node;

  friend bool operator==(const EventKey&, const EventKey&) = default;
};

// One record, as views into the caller's buffer.
struct RecordView {
  std::uint32_t type = 0;  // numeric message type (AUDIT_*)
  EventKey key;
  std::string_view body;  // the field list after "): ", may be empty
};

enum class ParseStatus : std::uint8_t {
  ok,
  empty,          // blank line
  no_type,        // no "type=" where the form needs one
  unknown_type,   // a type name neither known nor UNKNOWN[n]
  no_header,      // no "audit(" ... "): "
  bad_timestamp,  // the sec.msec:serial inside audit( ) does not parse
};

// Short, stable name of a status for logs and counters ("bad_timestamp").
std::string_view to_string(ParseStatus status);

// Parses an auditd log line: `[node=NAME ]type=NAME msg=audit(sec.msec:serial): fields`.
// NAME may be a known type name or `UNKNOWN[1234]`. A trailing '\n' is ignored.
ParseStatus parse_log_line(std::string_view line, RecordView& out);

// Parses a netlink payload `audit(sec.msec:serial): fields`; the type comes from nlmsg_type.
ParseStatus parse_netlink_payload(std::uint32_t type, std::string_view payload, RecordView& out);

// Type number <-> name ("SYSCALL" <-> 1300), from libaudit's tables; unknown numbers map to
// an empty view, unknown names to 0.
std::string_view record_type_name(std::uint32_t type);
std::uint32_t record_type_from_name(std::string_view name);

// How a field's value was written.
enum class ValueForm : std::uint8_t {
  bare,    // unquoted: a number, a word, or (for some keys) hex-encoded bytes
  quoted,  // "..." in the record; value excludes the quotes
  single_quoted,  // '...' (user messages' msg='...'); value excludes the quotes
};

struct Field {
  std::string_view key;
  std::string_view value;
  ValueForm form = ValueForm::bare;
};

// Splits a record body into key=value fields, appending to `out` (which the caller clears and
// reuses, so steady state allocates nothing). Nested fields of a user message's msg='...' are
// appended after the outer fields. Text before the first `key=` that is not itself a field (the
// 2007-era "user pid=..." or "avc:  denied { read }" prefixes) is skipped. Fields after the
// enriched-format 0x1D separator are appended with `enriched` set in the caller's view by
// index: returns the index of the first enriched field (out.size() if none).
std::size_t split_fields(std::string_view body, std::vector<Field>& out);

}  // namespace aurelay::correlate
