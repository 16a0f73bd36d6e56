// The audit record parser: headers of auditd log lines and netlink payloads, type name tables,
// and the field splitter. Everything works on views into the caller's bytes; nothing here
// allocates except the type tables (once) and the caller's field vector (when it grows).
#include "correlate/record.h"

#include <libaudit.h>

#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace aurelay::correlate {
namespace {

// ---------------------------------------------------------------------------------------------
// Type name tables

constexpr std::uint32_t kFirstTableType = 1000;
constexpr std::uint32_t kLastTableType = 2999;
constexpr std::size_t kNameSlots = 1024;  // power of two, > 2 x the ~210 names

// Types the kernel sends (or auditd writes) that libaudit 3.0.9's table lacks
// (include/uapi/linux/audit.h of recent kernels). Used only where libaudit has no name.
struct HandName {
  std::uint32_t type;
  const char* name;
};
constexpr HandName kHandNames[] = {
    {1000, "GET"},
    {1001, "SET"},
    {1002, "LIST"},
    {1003, "ADD"},
    {1004, "DEL"},
    {1007, "WATCH_INS"},
    {1008, "WATCH_REM"},
    {1009, "WATCH_LIST"},
    {1010, "SIGNAL_INFO"},
    {1011, "ADD_RULE"},
    {1012, "DEL_RULE"},
    {1013, "LIST_RULES"},
    {1014, "TRIM"},
    {1015, "MAKE_EQUIV"},
    {1016, "TTY_GET"},
    {1017, "TTY_SET"},
    {1018, "SET_FEATURE"},
    {1019, "GET_FEATURE"},
    {1329, "REPLACE"},
    {1338, "DM_CTRL"},
    {1339, "DM_EVENT"},
    {1420, "IPE_ACCESS"},
    {1421, "IPE_CONFIG_CHANGE"},
    {1422, "IPE_POLICY_LOAD"},
    {1423, "LANDLOCK_ACCESS"},
    {1424, "LANDLOCK_DOMAIN"},
    {1425, "MAC_TASK_CONTEXTS"},
    {1426, "MAC_OBJ_CONTEXTS"},
};

inline std::uint32_t hash_name(std::string_view name) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

struct TypeTables {
  std::array<std::string_view, kLastTableType - kFirstTableType + 1> names{};
  struct Slot {
    std::string_view name;
    std::uint32_t type = 0;
  };
  std::array<Slot, kNameSlots> slots{};

  void insert(std::string_view name, std::uint32_t type) {
    for (std::uint32_t i = hash_name(name);; ++i) {
      Slot& slot = slots[i & (kNameSlots - 1)];
      if (slot.type == 0) {
        slot = Slot{name, type};
        return;
      }
      if (slot.name == name) return;  // first number wins
    }
  }

  std::uint32_t find(std::string_view name) const {
    for (std::uint32_t i = hash_name(name);; ++i) {
      const Slot& slot = slots[i & (kNameSlots - 1)];
      if (slot.type == 0) return 0;
      if (slot.name == name) return slot.type;
    }
  }
};

TypeTables build_type_tables() {
  TypeTables tables;
  for (std::uint32_t type = kFirstTableType; type <= kLastTableType; ++type) {
    // libaudit returns pointers into its static string table: valid for the process lifetime.
    if (const char* name = audit_msg_type_to_name(static_cast<int>(type))) {
      tables.names[type - kFirstTableType] = name;
    }
  }
  for (const HandName& hand : kHandNames) {
    std::string_view& slot = tables.names[hand.type - kFirstTableType];
    if (slot.empty()) slot = hand.name;
  }
  for (std::uint32_t type = kFirstTableType; type <= kLastTableType; ++type) {
    std::string_view name = tables.names[type - kFirstTableType];
    if (!name.empty()) tables.insert(name, type);
  }
  return tables;
}

const TypeTables& type_tables() {
  static const TypeTables tables = build_type_tables();  // thread-safe static initialisation
  return tables;
}

// ---------------------------------------------------------------------------------------------
// Header parsing

constexpr std::string_view kUnknownPrefix = "UNKNOWN[";
constexpr std::size_t kMaxHeaderInside = 64;  // "sec.msec:serial" is at most ~45 characters

inline bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

inline std::string_view skip_spaces(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// Parses a non-empty run of decimal digits that fits in `max`. Returns false on an empty run,
// a non-digit or overflow.
bool parse_decimal(std::string_view digits, std::uint64_t max, std::uint64_t& value) {
  if (digits.empty() || digits.size() > 20) return false;
  std::uint64_t v = 0;
  if (digits.size() < 20) {
    // Up to 19 digits cannot overflow 64 bits, and v only grows digit by digit: compare once.
    for (char c : digits) {
      if (!is_digit(c)) return false;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return false;
    value = v;
    return true;
  }
  for (char c : digits) {
    if (!is_digit(c)) return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  value = v;
  return true;
}

std::uint32_t parse_unknown_type(std::string_view name) {
  if (name.size() <= kUnknownPrefix.size() + 1 ||
      name.substr(0, kUnknownPrefix.size()) != kUnknownPrefix || name.back() != ']') {
    return 0;
  }
  std::uint64_t number = 0;
  if (!parse_decimal(name.substr(kUnknownPrefix.size(), name.size() - kUnknownPrefix.size() - 1),
                     0xFFFF, number)) {
    return 0;  // nlmsg_type is 16 bits
  }
  return static_cast<std::uint32_t>(number);
}

// Parses `audit(sec.msec:serial)` followed by an optional ':' and spaces; the rest is the body.
ParseStatus parse_header(std::string_view text, RecordView& out) {
  constexpr std::string_view kAudit = "audit(";
  if (text.size() < kAudit.size() || std::memcmp(text.data(), kAudit.data(), kAudit.size()) != 0) {
    return ParseStatus::no_header;
  }
  text.remove_prefix(kAudit.size());
  const std::size_t limit = std::min(text.size(), kMaxHeaderInside);
  const void* close = std::memchr(text.data(), ')', limit);
  if (close == nullptr) {
    // No ')' in reach: a truncated header, or text that merely starts like one.
    return limit == text.size() ? ParseStatus::no_header : ParseStatus::bad_timestamp;
  }
  const std::size_t close_at =
      static_cast<std::size_t>(static_cast<const char*>(close) - text.data());
  const std::string_view inside = text.substr(0, close_at);

  const std::size_t dot = inside.find('.');
  const std::size_t colon = inside.find(':');
  if (dot == std::string_view::npos || colon == std::string_view::npos || colon < dot) {
    return ParseStatus::bad_timestamp;
  }
  std::uint64_t sec = 0;
  std::uint64_t msec = 0;
  std::uint64_t serial = 0;
  const std::string_view msec_digits = inside.substr(dot + 1, colon - dot - 1);
  if (!parse_decimal(inside.substr(0, dot), std::numeric_limits<std::uint64_t>::max(), sec) ||
      msec_digits.size() > 3 || !parse_decimal(msec_digits, 999, msec) ||
      !parse_decimal(inside.substr(colon + 1), std::numeric_limits<std::uint64_t>::max(), serial)) {
    return ParseStatus::bad_timestamp;
  }

  std::string_view rest = text.substr(close_at + 1);
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  out.key.sec = sec;
  out.key.msec = static_cast<std::uint32_t>(msec);
  out.key.serial = serial;
  out.body = skip_spaces(rest);
  return ParseStatus::ok;
}

inline std::string_view strip_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// ---------------------------------------------------------------------------------------------
// Field splitting

constexpr char kEnrichedSeparator = '\x1d';
constexpr std::size_t kMaxNestedLists = 4;
constexpr int kMaxNestingDepth = 2;

// Character classes for the scanner: 1 = ends a bare token (space, separator, end of list).
struct DelimiterTable {
  std::array<bool, 256> ends_token{};
  constexpr DelimiterTable() {
    ends_token[static_cast<unsigned char>(' ')] = true;
    ends_token[static_cast<unsigned char>(kEnrichedSeparator)] = true;
    ends_token[static_cast<unsigned char>('\n')] = true;
    ends_token[static_cast<unsigned char>('\t')] = true;
  }
};
constexpr DelimiterTable kDelimiters;

inline bool ends_token(char c) { return kDelimiters.ends_token[static_cast<unsigned char>(c)]; }

// Word-at-a-time search for the scanner's stop bytes (values and keys are mostly short runs of
// plain bytes). Every token delimiter is below 0x21, so a word is first tested for any byte below
// 0x21 (rare inside a token); a flagged byte is then checked exactly. In these masks the lowest
// flagged byte is always a real match (a borrow only flags bytes above one).
constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;
inline std::uint64_t bytes_below_0x21(std::uint64_t x) { return (x - kOnes * 0x21) & ~x & kHighs; }
inline std::uint64_t bytes_equal(std::uint64_t x, char c) {
  const std::uint64_t y = x ^ (kOnes * static_cast<unsigned char>(c));
  return (y - kOnes) & ~y & kHighs;
}
inline std::uint64_t load_word(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
inline const char* first_flagged(const char* p, std::uint64_t mask) {
  if constexpr (std::endian::native == std::endian::little) {
    return p + (std::countr_zero(mask) >> 3);
  } else {
    return p + (std::countl_zero(mask) >> 3);
  }
}

// The first token delimiter in [p, end), or end.
inline const char* find_token_end(const char* p, const char* end) {
  while (end - p >= 8) {
    const std::uint64_t mask = bytes_below_0x21(load_word(p));
    if (mask == 0) {
      p += 8;
      continue;
    }
    p = first_flagged(p, mask);
    if (ends_token(*p)) return p;
    ++p;  // another control byte: part of the token
  }
  while (p < end && !ends_token(*p)) ++p;
  return p;
}

// The first '=' or token delimiter in [p, end), or end.
inline const char* find_key_end(const char* p, const char* end) {
  while (end - p >= 8) {
    const std::uint64_t x = load_word(p);
    const std::uint64_t mask = bytes_below_0x21(x) | bytes_equal(x, '=');
    if (mask == 0) {
      p += 8;
      continue;
    }
    p = first_flagged(p, mask);
    if (*p == '=' || ends_token(*p)) return p;
    ++p;
  }
  while (p < end && *p != '=' && !ends_token(*p)) ++p;
  return p;
}

// Finds the ' that closes a single-quoted value starting at `from` (just after the opening
// quote): the first ' followed by the end of the text or a token delimiter, with "..." spans
// skipped (a double-quoted value inside may hold a '). Falls back to ignoring double quotes when
// that finds nothing (an unbalanced " inside). Returns npos when the value is unterminated.
std::size_t find_single_quote_end(std::string_view text, std::size_t from) {
  auto closes_at = [&](std::size_t i) {
    return text[i] == '\'' && (i + 1 == text.size() || ends_token(text[i + 1]));
  };
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '"') {
      const std::size_t end = text.find('"', i + 1);
      if (end == std::string_view::npos) break;
      i = end;
    } else if (text[i] == kEnrichedSeparator) {
      break;
    } else if (closes_at(i)) {
      return i;
    }
  }
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == kEnrichedSeparator) break;
    if (closes_at(i)) return i;
  }
  return std::string_view::npos;
}

struct Splitter {
  std::vector<Field>& out;
  std::array<std::string_view, kMaxNestedLists> nested{};
  std::size_t nested_count = 0;

  // Splits `text` (which contains no enriched separator) into fields. In a nested list, a key's
  // leading '(' and a bare value's trailing ',' or ')' are punctuation of the 2007-era
  // "(hostname=?, addr=?, terminal=cron res=success)" prose and are dropped.
  [[gnu::flatten]] void split_list(std::string_view text, bool nested_list, int depth) {
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
      while (p < end && ends_token(*p)) ++p;
      if (p == end) break;
      // Key: up to '='; a word that reaches a delimiter first is prose and is skipped.
      const char* key_begin = p;
      p = find_key_end(p, end);
      if (p == end || *p != '=') continue;
      if (nested_list) {
        while (key_begin < p && *key_begin == '(') ++key_begin;
      }
      const std::string_view key(key_begin, static_cast<std::size_t>(p - key_begin));
      ++p;  // '='
      if (key.empty()) {
        p = find_token_end(p, end);  // "=value" is not a field
        continue;
      }
      if (p < end && *p == '"') {
        const char* value_begin = p + 1;
        const void* close =
            std::memchr(value_begin, '"', static_cast<std::size_t>(end - value_begin));
        const char* value_end = close ? static_cast<const char*>(close) : end;
        out.push_back(Field{
            key, std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin)),
            ValueForm::quoted});
        p = close ? value_end + 1 : end;
      } else if (p < end && *p == '\'') {
        const std::size_t from = static_cast<std::size_t>(p + 1 - text.data());
        const std::size_t close = find_single_quote_end(text, from);
        const std::size_t value_end = close == std::string_view::npos ? text.size() : close;
        const std::string_view value = text.substr(from, value_end - from);
        out.push_back(Field{key, value, ValueForm::single_quoted});
        if (depth < kMaxNestingDepth && nested_count < kMaxNestedLists &&
            value.find('=') != std::string_view::npos) {
          nested[nested_count++] = value;
        }
        p = text.data() + (close == std::string_view::npos ? text.size() : close + 1);
      } else if (p < end && *p == '{') {
        // An enriched value in braces (SADDR={ saddr_fam=inet laddr=10.0.0.1 lport=22 }) is one
        // value, braces included: its inner key=value words are not fields of the record.
        const void* close = std::memchr(p, '}', static_cast<std::size_t>(end - p));
        const char* value_end = close ? static_cast<const char*>(close) + 1 : end;
        out.push_back(Field{key, std::string_view(p, static_cast<std::size_t>(value_end - p)),
                            ValueForm::bare});
        p = value_end;
      } else {
        const char* value_begin = p;
        p = find_token_end(p, end);
        const char* value_end = p;
        if (nested_list) {
          while (value_end > value_begin && (value_end[-1] == ',' || value_end[-1] == ')')) {
            --value_end;
          }
        }
        out.push_back(Field{
            key, std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin)),
            ValueForm::bare});
      }
    }
  }

  // Splits the outer list, then the nested lists it found (each may add one more level).
  void split_with_nested(std::string_view text) {
    split_list(text, false, 1);
    for (std::size_t i = 0; i < nested_count; ++i) {
      split_list(nested[i], true, 2);
    }
  }
};

}  // namespace

std::string_view to_string(ParseStatus status) {
  switch (status) {
    case ParseStatus::ok:
      return "ok";
    case ParseStatus::empty:
      return "empty";
    case ParseStatus::no_type:
      return "no_type";
    case ParseStatus::unknown_type:
      return "unknown_type";
    case ParseStatus::no_header:
      return "no_header";
    case ParseStatus::bad_timestamp:
      return "bad_timestamp";
  }
  return "invalid";
}

ParseStatus parse_log_line(std::string_view line, RecordView& out) {
  out = RecordView{};
  line = strip_line_end(line);
  line = skip_spaces(line);
  if (line.empty()) return ParseStatus::empty;

  constexpr std::string_view kNode = "node=";
  if (starts_with(line, kNode)) {
    const std::size_t space = line.find(' ', kNode.size());
    if (space == std::string_view::npos) return ParseStatus::no_type;
    out.key.node = line.substr(kNode.size(), space - kNode.size());
    line = skip_spaces(line.substr(space + 1));
  }

  constexpr std::string_view kType = "type=";
  if (!starts_with(line, kType)) return ParseStatus::no_type;
  line.remove_prefix(kType.size());
  std::size_t name_end = line.find(' ');
  if (name_end == std::string_view::npos) name_end = line.size();
  const std::uint32_t type = record_type_from_name(line.substr(0, name_end));
  if (type == 0) return ParseStatus::unknown_type;
  out.type = type;
  line = skip_spaces(line.substr(name_end));

  constexpr std::string_view kMsg = "msg=";
  if (!starts_with(line, kMsg)) return ParseStatus::no_header;
  line.remove_prefix(kMsg.size());
  if (line == "?") {
    // auditd writes `msg=?` for a record without a text header (AUDIT_REPLACE's binary
    // payload): there is no event key and no body.
    return ParseStatus::ok;
  }
  return parse_header(line, out);
}

ParseStatus parse_netlink_payload(std::uint32_t type, std::string_view payload, RecordView& out) {
  out = RecordView{};
  out.type = type;
  // Some senders count a terminating NUL or newline in the payload length.
  while (!payload.empty() &&
         (payload.back() == '\0' || payload.back() == '\n' || payload.back() == '\r')) {
    payload.remove_suffix(1);
  }
  if (payload.empty()) return ParseStatus::empty;
  return parse_header(payload, out);
}

std::string_view record_type_name(std::uint32_t type) {
  if (type < kFirstTableType || type > kLastTableType) return {};
  return type_tables().names[type - kFirstTableType];
}

std::uint32_t record_type_from_name(std::string_view name) {
  if (name.empty()) return 0;
  if (const std::uint32_t type = type_tables().find(name)) return type;
  if (name.front() == 'U') return parse_unknown_type(name);
  return 0;
}

std::size_t split_fields(std::string_view body, std::vector<Field>& out) {
  Splitter splitter{out};
  const std::size_t separator = body.find(kEnrichedSeparator);
  if (separator == std::string_view::npos) {
    splitter.split_with_nested(body);
    return out.size();
  }
  splitter.split_with_nested(body.substr(0, separator));
  const std::size_t first_enriched = out.size();
  // Everything after the first separator is enriched; a second separator (never written by
  // auditd) is skipped like a space.
  Splitter enriched{out};
  enriched.split_list(body.substr(separator + 1), false, kMaxNestingDepth);
  return first_enriched;
}

}  // namespace aurelay::correlate
