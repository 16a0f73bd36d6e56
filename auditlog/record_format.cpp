#include "auditlog/record_format.h"

#include <auparse.h>
#include <libaudit.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>

#include "base/words.h"

namespace aurelay::auditlog {

namespace {

// auditd stops adding interpreted fields when this little room is left in its buffer.
constexpr std::size_t kMinSpaceLeft = 24;
// Lines longer than this take libauparse's path, which knows where auditd's buffer ends.
constexpr std::size_t kDirectPathLongestLine = 8000;
constexpr char kInterpSeparator = 0x1D;  // AUDIT_INTERP_SEPARATOR

// The field names libauparse types as a uid, a gid, a syscall, an arch or a socket address
// (its type table), for the records the short path takes (no other type adjusts them), with the
// name auditd writes for each (upper case).
Interpretation interpreted_as(std::string_view name) {
  struct Entry {
    std::string_view name;
    Interpretation interpretation;
  };
  using I = Interpreted;
  // Grouped by first letter: a record's fields are looked up once each, on every record.
  static constexpr Entry kA[] = {{"arch", {I::arch, "ARCH"}}, {"auid", {I::uid, "AUID"}}};
  static constexpr Entry kE[] = {{"euid", {I::uid, "EUID"}}, {"egid", {I::gid, "EGID"}}};
  static constexpr Entry kF[] = {{"fsuid", {I::uid, "FSUID"}}, {"fsgid", {I::gid, "FSGID"}}};
  static constexpr Entry kG[] = {{"gid", {I::gid, "GID"}}};
  static constexpr Entry kI[] = {{"iuid", {I::uid, "IUID"}},
                                 {"id", {I::uid, "ID"}},
                                 {"inode_uid", {I::uid, "INODE_UID"}},
                                 {"igid", {I::gid, "IGID"}},
                                 {"inode_gid", {I::gid, "INODE_GID"}}};
  static constexpr Entry kN[] = {{"new_gid", {I::gid, "NEW_GID"}}};
  static constexpr Entry kO[] = {
      {"ouid", {I::uid, "OUID"}},       {"ogid", {I::gid, "OGID"}},
      {"oauid", {I::uid, "OAUID"}},     {"old-auid", {I::uid, "OLD-AUID"}},
      {"obj_uid", {I::uid, "OBJ_UID"}}, {"obj_gid", {I::gid, "OBJ_GID"}}};
  static constexpr Entry kS[] = {{"syscall", {I::syscall, "SYSCALL"}},
                                 {"suid", {I::uid, "SUID"}},
                                 {"sgid", {I::gid, "SGID"}},
                                 {"sauid", {I::uid, "SAUID"}},
                                 {"saddr", {I::other, "SADDR"}}};
  static constexpr Entry kU[] = {{"uid", {I::uid, "UID"}}, {"uring_op", {I::other, "URING_OP"}}};
  std::span<const Entry> entries;
  switch (name.empty() ? '\0' : name.front()) {
    case 'a':
      entries = kA;
      break;
    case 'e':
      entries = kE;
      break;
    case 'f':
      entries = kF;
      break;
    case 'g':
      entries = kG;
      break;
    case 'i':
      entries = kI;
      break;
    case 'n':
      entries = kN;
      break;
    case 'o':
      entries = kO;
      break;
    case 's':
      entries = kS;
      break;
    case 'u':
      entries = kU;
      break;
    default:
      return {};
  }
  for (const Entry& entry : entries) {
    if (entry.name == name) return entry.interpretation;
  }
  return {};
}

// libaudit's rule for a value written hex-encoded instead of quoted.
bool needs_encoding(std::string_view value) {
  for (char c : value) {
    if (c == '"' || static_cast<signed char>(c) < 0x21 || c == 0x7F) return true;
  }
  return false;
}

bool parse_decimal(std::string_view text, std::uint32_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

void append_upper(std::string& out, std::string_view name) {
  for (char c : name) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Whether `text` holds a byte below 0x20 or 0x7F, eight bytes per step.
bool has_control_character(std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    const std::uint64_t word = words::load_le64(text.data() + i);
    if ((words::bytes_below(word, 0x20) | words::bytes_equal(word, 0x7F)) != 0) return true;
  }
  for (; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7F) return true;
  }
  return false;
}

// The fields of a record's body, after "msg=audit(…): ".
std::string_view record_body(std::string_view line) {
  const std::size_t stamp = line.find("msg=audit(");
  if (stamp == std::string_view::npos) return {};
  const std::size_t end = line.find("):", stamp);
  if (end == std::string_view::npos || line.substr(end, 3) != "): ") return {};
  // "audit(SECONDS.MILLISECONDS:SERIAL)": anything else libauparse refuses, so it decides.
  std::string_view time = line.substr(stamp + 10, end - stamp - 10);
  if (time.empty() || time.front() == '0') return {};  // a real clock's seconds
  for (const char separator : {'.', ':', ')'}) {
    const std::size_t digits = std::min(time.find_first_not_of("0123456789"), time.size());
    const char next = digits < time.size() ? time[digits] : ')';
    // (the kernel writes the milliseconds with three digits and a 32-bit serial)
    if (digits == 0 || digits > 12 || next != separator || (separator == ':' && digits != 3) ||
        (separator == ')' && digits > 10)) {
      return {};
    }
    time.remove_prefix(std::min(digits + 1, time.size()));
  }
  if (!time.empty()) return {};
  const std::string_view body = line.substr(end + 3);
  // Control characters (the kernel hex-encodes values holding them) are libauparse's business.
  if (has_control_character(body)) return {};
  return body;
}

}  // namespace

void append_raw_line(std::string& out, std::string_view node, std::uint32_t type,
                     std::string_view payload) {
  if (const std::size_t nul = payload.find('\0'); nul != std::string_view::npos) {
    payload = payload.substr(0, nul);
  }
  const std::size_t start = out.size();
  std::array<char, 32> unknown{};
  const char* name = audit_msg_type_to_name(static_cast<int>(type));
  if (name == nullptr) {
    std::snprintf(unknown.data(), unknown.size(), "UNKNOWN[%u]", type);
    name = unknown.data();
  }
  if (!node.empty()) {
    out += "node=";
    out += node;
    out += ' ';
  }
  out += "type=";
  out += name;
  out += " msg=";
  out += payload;
  // With a node name auditd's format ends in a newline, which becomes the space trimmed below.
  if (!node.empty()) out += '\n';
  // auditd formats into a buffer 32 bytes short of its end (snprintf keeps one for the NUL).
  const std::size_t limit = (node.empty() ? kMaxAuditMessageLength : kFormatBufferLength) - 32 - 1;
  const bool cut = out.size() - start > limit;
  if (cut) out.resize(start + limit);
  for (std::size_t i = out.find('\n', start); i != std::string::npos; i = out.find('\n', i + 1)) {
    out[i] = ' ';
  }
  if (!cut && out.size() > start && out.back() == ' ') out.pop_back();
}

void Enricher::enrich(std::string& line, std::size_t line_start, std::uint32_t type) {
  if (enrich_directly(line, line_start, type)) return;
  enrich_with_auparse(line, line_start);
}

bool Enricher::enrich_directly(std::string& line, std::size_t line_start, std::uint32_t type) {
  const bool execve = type == correlate::kTypeExecve;
  constexpr std::uint32_t kTypeBprmFcaps = 1321;  // AUDIT_BPRM_FCAPS: with every exec
  if (type != correlate::kTypeSyscall && type != correlate::kTypePath &&
      type != correlate::kTypeCwd && type != correlate::kTypeProctitle && !execve &&
      type != kTypeBprmFcaps && type != correlate::kTypeEoe) {
    return false;
  }
  // libauparse ends an event at EOE and interprets nothing of it (auditd never logs one anyway).
  if (type == correlate::kTypeEoe) return true;
  const std::string_view text = std::string_view(line).substr(line_start);
  // (a 0x1D in the body is a control character, refused below)
  if (text.size() > kDirectPathLongestLine) return false;
  const std::string_view body = record_body(text);
  if (body.empty()) return false;
  // libauparse cuts a record at every space and each piece at its first '='; the kernel never
  // puts a space inside a value (it hex-encodes such values). The pieces here are cut the same
  // way; a body with an empty piece, a piece without '=', a key that is not a lower-case word or
  // a nested msg='…' is libauparse's to read.
  fields_.clear();
  const auto key_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '[' ||
           c == ']';
  };
  for (std::string_view rest = body; !rest.empty();) {
    const std::size_t space = rest.find(' ');
    const std::string_view piece = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (space != std::string_view::npos && rest.empty()) return false;  // a trailing space
    const std::size_t equals = piece.find('=');
    if (equals == 0 || equals == std::string_view::npos) return false;
    const std::string_view key = piece.substr(0, equals);
    const std::string_view value = piece.substr(equals + 1);
    if (!std::all_of(key.begin(), key.end(), key_char) || key == "msg" || value.starts_with('\'')) {
      return false;
    }
    fields_.push_back(correlate::Field{key, value, correlate::ValueForm::bare});
  }
  const std::size_t count = fields_.size();
  // A SYSCALL record opens with arch and syscall, as the kernel writes it.
  if (type == correlate::kTypeSyscall &&
      (count < 2 || fields_[0].key != "arch" || fields_[1].key != "syscall")) {
    return false;
  }
  // The interpreted fields' names and values: a process's records repeat them, so the suffix
  // of the last record that had the same ones is written again without a lookup.
  interpreted_.clear();
  key_.clear();
  for (std::size_t i = 0; i < count; ++i) {
    const correlate::Field& field = fields_[i];
    // EXECVE's arguments are text whatever their names (libauparse adjusts their type).
    if (execve && field.key.starts_with('a')) continue;
    const Interpretation interpretation = interpreted_as(field.key);
    if (interpretation.kind == Interpreted::none) continue;
    if (interpretation.kind == Interpreted::other) return false;
    // libauparse knows a record's machine and syscall only in a SYSCALL record.
    // (only once: it reads every syscall field as the record's first)
    if ((interpretation.kind == Interpreted::arch || interpretation.kind == Interpreted::syscall) &&
        (type != correlate::kTypeSyscall || i >= 2)) {
      return false;
    }
    interpreted_.push_back({interpretation, field.value});
    key_ += field.key;
    key_ += '=';
    key_ += field.value;
    key_ += ' ';
  }
  // A process's records repeat their interpreted fields: the suffix of the last record that had
  // the same ones is written again without a lookup.
  if (!key_.empty() && key_ == cached_key_) {
    if (text.size() + cached_suffix_.size() + kMinSpaceLeft + 64 >= kFormatBufferLength)
      return false;
    line += cached_suffix_;
    return true;
  }
  suffix_.clear();
  int machine = -1;
  for (const auto& [interpretation, value] : interpreted_) {
    const auto [kind, label] = interpretation;
    suffix_ += suffix_.empty() ? kInterpSeparator : ' ';
    suffix_ += label;
    suffix_ += '=';
    if (kind == Interpreted::arch) {
      unsigned long elf = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), elf, 16);
      if (error != std::errc() || end != value.data() + value.size()) return false;
      machine = audit_elf_to_machine(static_cast<unsigned int>(elf));
      const char* machine_name = machine < 0 ? nullptr : audit_machine_to_name(machine);
      if (machine_name == nullptr) return false;
      suffix_ += machine_name;
      continue;
    }
    std::uint32_t number = 0;
    if (!parse_decimal(value, number)) return false;
    if (kind == Interpreted::syscall) {
      if (machine < 0) return false;
      const char* call = audit_syscall_to_name(static_cast<int>(number), machine);
      // socketcall and ipc are named with their first argument: libauparse's work.
      if (call == nullptr || std::string_view(call) == "socketcall" ||
          std::string_view(call) == "ipc") {
        return false;
      }
      suffix_ += call;
      continue;
    }
    const std::string_view name =
        kind == Interpreted::uid ? user_name(number, value) : group_name(number, value);
    if (name.empty() || needs_encoding(name)) return false;
    suffix_ += '"';
    suffix_ += name;
    suffix_ += '"';
  }
  if (text.size() + suffix_.size() + kMinSpaceLeft + 64 >= kFormatBufferLength) return false;
  line += suffix_;
  cached_key_ = key_;
  cached_suffix_ = suffix_;
  return true;
}

namespace {

// Whether `name` is `id` written in decimal: IdNames' answer for an id the system does not know.
bool is_decimal_of(std::string_view name, std::uint32_t id) {
  char digits[16];
  const auto [end, error] = std::to_chars(digits, digits + sizeof digits, id);
  return error == std::errc() && name == std::string_view(digits, end - digits);
}

}  // namespace

std::string_view Enricher::user_name(std::uint32_t uid, std::string_view text) {
  // As libauparse: -1 is "unset" and 0 "root" whatever the password database says.
  if (uid == 4294967295U) return "unset";
  if (uid == 0) return "root";
  const std::string_view name = ids_.user(text);
  // Unknown (IdNames answers the plain number): libauparse writes "unknown(N)".
  return is_decimal_of(name, uid) ? std::string_view() : name;
}

std::string_view Enricher::group_name(std::uint32_t gid, std::string_view text) {
  if (gid >= 0x7FFFFFFFU) return {};
  const std::string_view name = ids_.group(text);
  return is_decimal_of(name, gid) ? std::string_view() : name;
}

void Enricher::enrich_with_auparse(std::string& line, std::size_t line_start) {
  ++auparse_lookups_;
  const std::size_t raw_length = line.size() - line_start;
  if (raw_length >= kFormatBufferLength) return;
  std::size_t room = kFormatBufferLength - raw_length;
  if (room <= kMinSpaceLeft) return;
  std::string message = line.substr(line_start);
  message += '\n';
  auparse_state_t* au = auparse_init(AUSOURCE_BUFFER, message.c_str());
  if (au == nullptr) return;
  auparse_set_escape_mode(au, AUPARSE_ESC_RAW);
  int separators = 0;
  for (int rc = auparse_first_record(au); rc > 0 && room > kMinSpaceLeft;
       rc = auparse_next_field(au)) {
    const int field_type = auparse_get_field_type(au);
    bool encode = false;
    switch (field_type) {
      case AUPARSE_TYPE_UID:
      case AUPARSE_TYPE_GID:
        encode = true;
        break;
      case AUPARSE_TYPE_SYSCALL:
      case AUPARSE_TYPE_ARCH:
      case AUPARSE_TYPE_SOCKADDR:
        break;
      default:
        continue;
    }
    if (separators++ == 0) {
      line += kInterpSeparator;
      --room;
    }
    std::string name;
    append_upper(name, auparse_get_field_name(au));
    if (name.size() > 63) name.resize(63);
    const char* interpreted = auparse_interpret_field(au);
    const std::string_view value = interpreted == nullptr ? "?" : interpreted;
    std::string field;
    if (encode) {
      std::unique_ptr<char, decltype(&std::free)> encoded(
          audit_encode_nv_string(name.c_str(), std::string(value).c_str(),
                                 static_cast<unsigned int>(value.size())),
          &std::free);
      if (!encoded) continue;
      field = encoded.get();
    } else {
      field = name + "=" + std::string(value);
    }
    // auditd adds a field only when it fits whole (its length plus a space and a NUL).
    if (field.size() + 2 >= room) continue;
    std::size_t used = field.size();
    if (separators > 1) {
      line += ' ';
      ++used;
    }
    line += field;
    room -= used;
  }
  auparse_destroy_ext(au, AUPARSE_DESTROY_COMMON);
}

}  // namespace aurelay::auditlog
