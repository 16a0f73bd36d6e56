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
  kTypeConfigChange = 1305,
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

struct ProcessContext;

// One record, as views into the caller's buffer.
struct RecordView {
  std::uint32_t type = 0;  // numeric message type (AUDIT_*)
  EventKey key;
  std::string_view body;  // the field list after "): ", may be empty
  // What the reader found in /proc about the record's process (live SYSCALL records), or null.
  const ProcessContext* context = nullptr;
};

enum class ParseStatus : std::uint8_t {
  ok,
  empty,          // blank line
  no_type,        // no "type=" where the form needs one
  unknown_type,   // a type name neither known nor UNKNOWN[n]
  no_header,      // no "audit(", or the text ends inside it (truncated)
  bad_timestamp,  // the sec.msec:serial inside audit( ) does not parse
};

// Short, stable name of a status for logs and counters ("bad_timestamp").
std::string_view to_string(ParseStatus status);

// Parses an auditd log line: `[node=NAME ]type=NAME msg=audit(sec.msec:serial): fields`.
// NAME may be a known type name (record_type_from_name) or `UNKNOWN[1234]` (1..65535). Trailing
// '\n'/'\r' are ignored. Any number of spaces may follow "): " (CWD records have two); the
// ':' itself is optional (old auditd DAEMON_CONFIG records). The body may be empty or absent.
// `msg=?` (what auditd writes for a record without a text header, e.g. UNKNOWN[1329]) is ok with
// a zero key and an empty body. Statuses, checked in this order:
//   empty: nothing but spaces; no_type: no "type=" (after the optional node=); unknown_type:
//   NAME unknown; no_header: no "msg=audit(", or the text ends before its ')' (truncated);
//   bad_timestamp: no ')' within 64 bytes, or sec, msec (1-3 digits) or serial not decimal
//   or overflowing 64 bits.
// On anything but ok, `out` holds what was parsed so far (callers use it only on ok).
ParseStatus parse_log_line(std::string_view line, RecordView& out);

// Parses a netlink payload `audit(sec.msec:serial): fields`; the type comes from nlmsg_type.
// Trailing NULs, '\n' and '\r' are ignored. Statuses as for parse_log_line (empty, no_header,
// bad_timestamp); the type is not checked.
ParseStatus parse_netlink_payload(std::uint32_t type, std::string_view payload, RecordView& out);

// Type number <-> name ("SYSCALL" <-> 1300), from libaudit's tables for 1000..2999 plus the
// kernel types libaudit 3.0.9 lacks (REPLACE, DM_*, IPE_*, LANDLOCK_*, MAC_*_CONTEXTS, control
// messages). Built once, thread-safe; name lookup is one hash probe. Unknown numbers map to an
// empty view, unknown names to 0; record_type_from_name also accepts `UNKNOWN[n]`.
std::string_view record_type_name(std::uint32_t type);
std::uint32_t record_type_from_name(std::string_view name);

// How a field's value was written.
enum class ValueForm : std::uint8_t {
  bare,           // unquoted: a number, a word, or (for some keys) hex-encoded bytes
  quoted,         // "..." in the record; value excludes the quotes
  single_quoted,  // '...' (user messages' msg='...'); value excludes the quotes
};

struct Field {
  std::string_view key;
  std::string_view value;
  ValueForm form = ValueForm::bare;
};

// Splits a record body into key=value fields, appending to `out` (the caller clears and reuses
// it, so steady state allocates nothing; fields are views into `body`). Order in `out`:
//   1. the outer fields, in text order. Words without '=' (the 2007-era "user pid=..." prefix,
//      "avc:  denied  { read } for  pid=...", "config changed,") are skipped.
//   2. the nested fields of every single-quoted value that holds '=' (a user message's
//      msg='op=... acct="root" res=success'), in text order. The outer field stays too, with
//      form single_quoted and the whole quoted text as value. In nested lists a key's leading
//      '(' and a bare value's trailing ',' / ')' are dropped ("(hostname=?, addr=?, ...)").
//   3. the enriched fields after the 0x1D separator (log_format=ENRICHED: UID="root" ...).
// A bare value that starts with '{' runs to the next '}' and keeps both braces: enriched values
// like SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=22 } are one value, not fields.
// Returns the index in `out` of the first enriched field: out.size() when there is none, so
// fields [previous size, returned index) are the record's own. An unterminated quote runs to
// the end of its list. Never reads outside `body`.
std::size_t split_fields(std::string_view body, std::vector<Field>& out);

}  // namespace aurelay::correlate
