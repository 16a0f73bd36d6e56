// One record as auditd 3.0.9 writes it to audit.log: RAW (`type=NAME msg=PAYLOAD`, with a
// `node=NAME ` prefix under name_format) and ENRICHED (RAW, then 0x1D and the interpreted uid,
// gid, syscall, arch and sockaddr fields, e.g. `ARCH=x86_64 SYSCALL=execve AUID="unset"`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/interpret.h"
#include "correlate/record.h"

namespace aurelay::auditlog {

// The longest line auditd writes (its format buffer, MAX_AUDIT_MESSAGE_LENGTH plus a host name).
inline constexpr std::size_t kMaxAuditMessageLength = 8970;
inline constexpr std::size_t kFormatBufferLength = kMaxAuditMessageLength + 255;

// Appends the RAW line of a netlink record (no newline). As auditd: the payload ends at its
// first NUL, newlines inside become spaces, one trailing space is dropped, an unknown type is
// UNKNOWN[n], and the line is cut where auditd's buffer ends.
void append_raw_line(std::string& out, std::string_view node, std::uint32_t type,
                     std::string_view payload);

// What the short path reads a field as (libauparse's type for the field's name) and the name
// auditd writes for it (upper case).
enum class Interpreted : std::uint8_t { none, uid, gid, syscall, arch, other };
struct Interpretation {
  Interpreted kind = Interpreted::none;
  std::string_view label;
};

// Adds ENRICHED's suffix to raw lines. The records the kernel sends for every syscall event
// (SYSCALL, PATH, CWD, EXECVE, PROCTITLE, BPRM_FCAPS) are interpreted here, with names cached;
// anything else, and any value this short path is not sure of, goes through libauparse exactly as
// auditd does. One per thread.
class Enricher {
 public:
  Enricher() = default;
  Enricher(const Enricher&) = delete;
  Enricher& operator=(const Enricher&) = delete;

  // `line` is a RAW line of record `type` (0 = unknown: libauparse reads it). Appends the
  // suffix auditd would (nothing when no field is interpreted).
  void enrich(std::string& line, std::size_t line_start, std::uint32_t type);

  // The libauparse path alone, for every record (tests compare the two).
  void enrich_with_auparse(std::string& line, std::size_t line_start);

  std::uint64_t auparse_lookups() const { return auparse_lookups_; }

 private:
  bool enrich_directly(std::string& line, std::size_t line_start, std::uint32_t type);
  // The name auditd writes for a uid or gid (`text` its digits), empty where the short path
  // leaves it to libauparse (an id the system does not know).
  std::string_view user_name(std::uint32_t uid, std::string_view text);
  std::string_view group_name(std::uint32_t gid, std::string_view text);

  std::vector<correlate::Field> fields_;
  struct InterpretedField {
    Interpretation interpretation;
    std::string_view value;
  };
  std::vector<InterpretedField> interpreted_;  // the record's fields the suffix is made of
  std::string suffix_;
  std::string key_;            // the interpreted fields of the record at hand
  std::string cached_key_;     // … of the last record enriched on the short path
  std::string cached_suffix_;  // and its suffix
  correlate::IdNames ids_;     // uid/gid -> name, cached
  std::uint64_t auparse_lookups_ = 0;
};

}  // namespace aurelay::auditlog
