// The audit record parser: headers of auditd log lines and netlink payloads, type name tables,
// and the field splitter. Everything works on views into the caller's bytes; nothing here
// allocates except the type tables (once) and the caller's field vector (when it grows).
#include "correlate/record.h"

#include <libaudit.h>

#include <array>
#include <bit>
#include <cstring>
#include <limits>

#include "base/words.h"

namespace aurelay::correlate {
namespace {

// ---------------------------------------------------------------------------------------------
// Word-at-a-time helpers: eight bytes per step for the scans of headers, names and fields.
// A word holds its first byte in memory as the least significant one. In the masks below the
// lowest flagged byte is always exact; bytes above it may be flagged wrongly (a borrow or carry
// only runs upwards), so callers use the lowest one only.

using words::kHighs;
using words::kOnes;
using words::load_le64;
inline std::uint32_t load_u32(const char* p) {
  std::uint32_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
using words::bytes_equal;
inline std::uint64_t bytes_below_0x21(std::uint64_t x) { return words::bytes_below(x, 0x21); }
// Non-zero in the bytes that are not ASCII digits: high nibble not 3, or 3 but low nibble > 9.
inline std::uint64_t bytes_not_digit(std::uint64_t x) {
  constexpr std::uint64_t kHighNibbles = kOnes * 0xF0;
  return ((x & kHighNibbles) ^ (kOnes * 0x30)) |
         (((x + kOnes * 0x06) & kHighNibbles) ^ (kOnes * 0x30));
}
// Index of the lowest (first in memory) non-zero byte of a non-zero mask.
inline std::size_t first_flagged_index(std::uint64_t mask) {
  return static_cast<std::size_t>(std::countr_zero(mask) >> 3);
}
inline const char* first_flagged(const char* p, std::uint64_t mask) {
  return p + first_flagged_index(mask);
}

// The first `c` in [p, end), or end.
inline const char* find_byte(const char* p, const char* end, char c) {
  for (; end - p >= 8; p += 8) {
    if (const std::uint64_t mask = bytes_equal(load_le64(p), c)) return first_flagged(p, mask);
  }
  while (p < end && *p != c) ++p;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Type name tables

constexpr std::uint32_t kFirstTableType = 1000;
constexpr std::uint32_t kLastTableType = 2999;
constexpr std::size_t kNameSlots = 1024;  // power of two, > 2 x the ~230 names

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

// A name as two words and its length, for hashing and comparing without a byte loop: the first
// and the last eight bytes (overlapping below 16 bytes), for 4..7 bytes the first and last four,
// for 1..3 bytes the first, middle and last byte. Names of at most 16 bytes are equal exactly
// when their NameWords are; longer ones must also compare the bytes in between.
struct NameWords {
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::uint64_t size = 0;
  friend bool operator==(const NameWords&, const NameWords&) = default;
};
constexpr std::size_t kNameWordsExact = 16;

inline NameWords name_words(std::string_view name) {
  const char* p = name.data();
  const std::size_t n = name.size();
  NameWords words;
  words.size = n;
  if (n >= 8) {
    words.head = load_le64(p);
    words.tail = load_le64(p + n - 8);
  } else if (n >= 4) {
    words.head = load_u32(p);
    words.tail = load_u32(p + n - 4);
  } else if (n > 0) {
    words.head = static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[n / 2]) << 8 |
                 static_cast<unsigned char>(p[n - 1]) << 16;
  }
  return words;
}

inline std::uint32_t hash_name(const NameWords& words) {
  const std::uint64_t mixed = (words.head ^ std::rotl(words.tail, 29) ^ words.size) *
                              0x9E3779B97F4A7C15ull;  // Fibonacci hashing: the top bits
  return static_cast<std::uint32_t>(mixed >> 32);
}

struct TypeTables {
  std::array<std::string_view, kLastTableType - kFirstTableType + 1> names{};
  struct Slot {
    NameWords words;
    std::uint32_t type = 0;
  };
  std::array<Slot, kNameSlots> slots{};

  std::uint32_t find(std::string_view name) const {
    const NameWords words = name_words(name);
    for (std::size_t i = hash_name(words);; ++i) {
      const Slot& slot = slots[i & (kNameSlots - 1)];
      if (slot.type == 0) return 0;
      if (slot.words == words &&
          (words.size <= kNameWordsExact || names[slot.type - kFirstTableType] == name)) {
        return slot.type;
      }
    }
  }

  void insert(std::string_view name, std::uint32_t type) {
    if (find(name) != 0) return;  // first number wins
    const NameWords words = name_words(name);
    std::size_t i = hash_name(words);
    while (slots[i & (kNameSlots - 1)].type != 0) ++i;
    slots[i & (kNameSlots - 1)] = Slot{words, type};
  }
};

// Not inlined: built once, straight into type_tables()' static, which stays a cheap check.
[[gnu::noinline]] TypeTables build_type_tables() {
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

[[gnu::always_inline]] inline const TypeTables& type_tables() {
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

// The value of eight ASCII digits in a word, the most significant first in memory (a leading
// zero byte counts as a zero digit): three multiply-and-shift steps, two then four then eight
// digits at a time.
inline std::uint64_t eight_digits_value(std::uint64_t x) {
  x = ((x & (kOnes * 0x0F)) * (256 * 10 + 1)) >> 8;
  x = ((x & 0x00FF00FF00FF00FFull) * (65536 * 100 + 1)) >> 16;
  return ((x & 0x0000FFFF0000FFFFull) * ((1ull << 32) * 10000 + 1)) >> 32;
}

constexpr std::uint64_t kPowersOf10[] = {1,      10,      100,      1000,     10000,
                                         100000, 1000000, 10000000, 100000000};

struct DigitRun {
  std::size_t count = 0;
  std::uint64_t value = 0;  // meaningful for up to 19 digits (more may wrap)
};

// The run of ASCII digits at the start of [p, end), eight at a time.
inline DigitRun read_digits(const char* p, const char* end) {
  DigitRun run;
  for (; end - p >= 8; p += 8) {
    const std::uint64_t x = load_le64(p);
    if (const std::uint64_t stops = bytes_not_digit(x)) {
      const std::size_t n = first_flagged_index(stops);
      if (n > 0) {
        // The n digits move to the top of the word; the bytes below become leading zeros.
        run.value = run.value * kPowersOf10[n] + eight_digits_value(x << (64 - 8 * n));
        run.count += n;
      }
      return run;
    }
    run.value = run.value * kPowersOf10[8] + eight_digits_value(x);
    run.count += 8;
  }
  for (; p < end && is_digit(*p); ++p, ++run.count) {
    run.value = run.value * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  return run;
}

// "SSSSSSSSSS.mmm:" (ten digits of seconds, the width of every time from 2001 to 2286, and three
// of milliseconds) at the start of [p, end), followed by a digit: checked and converted as two
// words. Returns false for any other text.
bool read_fixed_width_time(const char* p, const char* end, std::uint64_t& sec,
                           std::uint64_t& msec) {
  if (end - p < 16) return false;
  const std::uint64_t high = load_le64(p);     // the first eight digits of the seconds
  const std::uint64_t low = load_le64(p + 8);  // "SS.mmm:s"
  constexpr std::uint64_t kPunctuationBytes = 0x00FF000000FF0000ull;  // bytes 2 and 6
  constexpr std::uint64_t kPunctuation = std::uint64_t{':'} << 48 | std::uint64_t{'.'} << 16;
  if ((low & kPunctuationBytes) != kPunctuation) return false;
  // With '0' in place of '.' and ':', `digits` holds the number SS0mmm0s (s: a digit of the
  // serial).
  constexpr std::uint64_t kZeros = kOnes * '0' & kPunctuationBytes;
  const std::uint64_t digits = low ^ kPunctuation ^ kZeros;
  if ((bytes_not_digit(high) | bytes_not_digit(digits)) != 0) return false;
  const std::uint64_t value = eight_digits_value(digits);
  sec = eight_digits_value(high) * 100 + value / 1000000;
  msec = value / 100 % 1000;
  return true;
}

// The usual timestamp, `sec.msec:serial)` with at most 19 digits in sec and serial and 1-3 in
// msec, read in one pass. Returns false for anything else, for read_any_timestamp to decide;
// what it accepts, read_any_timestamp accepts with the same values.
bool read_usual_timestamp(std::string_view text, EventKey& key, std::size_t& close_at) {
  constexpr std::size_t kMaxDigits = 19;  // 19 digits cannot overflow 64 bits
  const char* const begin = text.data();
  const char* const end = begin + std::min(text.size(), kMaxHeaderInside);
  std::uint64_t sec = 0;
  std::uint64_t msec = 0;
  const char* p = begin + 15;  // after "SSSSSSSSSS.mmm:"
  if (!read_fixed_width_time(begin, end, sec, msec)) {
    const DigitRun sec_digits = read_digits(begin, end);
    p = begin + sec_digits.count;
    if (sec_digits.count == 0 || sec_digits.count > kMaxDigits || p == end || *p != '.') {
      return false;
    }
    const DigitRun msec_digits = read_digits(++p, end);
    p += msec_digits.count;
    if (msec_digits.count == 0 || msec_digits.count > 3 || p == end || *p != ':') return false;
    ++p;
    sec = sec_digits.value;
    msec = msec_digits.value;
  }
  const DigitRun serial = read_digits(p, end);
  p += serial.count;
  if (serial.count == 0 || serial.count > kMaxDigits || p == end || *p != ')') return false;
  key.sec = sec;
  key.msec = static_cast<std::uint32_t>(msec);
  key.serial = serial.value;
  close_at = static_cast<std::size_t>(p - begin);
  return true;
}

// Reads `sec.msec:serial)` (the text after "audit(") by the general rules of parse_log_line's
// statuses: no ')' in 64 bytes, a missing '.' or ':', or numbers that do not parse.
ParseStatus read_any_timestamp(std::string_view text, EventKey& key, std::size_t& close_at) {
  const std::size_t limit = std::min(text.size(), kMaxHeaderInside);
  const void* close = std::memchr(text.data(), ')', limit);
  if (close == nullptr) {
    // No ')' in reach: a truncated header, or text that merely starts like one.
    return limit == text.size() ? ParseStatus::no_header : ParseStatus::bad_timestamp;
  }
  close_at = static_cast<std::size_t>(static_cast<const char*>(close) - text.data());
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
  key.sec = sec;
  key.msec = static_cast<std::uint32_t>(msec);
  key.serial = serial;
  return ParseStatus::ok;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// Parses `audit(sec.msec:serial)` followed by an optional ':' and spaces; the rest is the body.
ParseStatus parse_header(std::string_view text, RecordView& out) {
  constexpr std::string_view kAudit = "audit(";
  if (!starts_with(text, kAudit)) return ParseStatus::no_header;
  text.remove_prefix(kAudit.size());
  std::size_t close_at = 0;
  if (!read_usual_timestamp(text, out.key, close_at)) {
    const ParseStatus status = read_any_timestamp(text, out.key, close_at);
    if (status != ParseStatus::ok) return status;
  }
  std::string_view rest = text.substr(close_at + 1);
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  out.body = skip_spaces(rest);
  return ParseStatus::ok;
}

inline std::string_view strip_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// ---------------------------------------------------------------------------------------------
// Field splitting

constexpr char kEnrichedSeparator = '\x1d';
constexpr std::size_t kMaxNestedLists = 4;
constexpr int kMaxNestingDepth = 2;

// Character classes for the scanner: bytes that end a bare token (space, separator, end of list)
// and bytes that open a value which has its own end (quotes, brace).
struct ByteClasses {
  std::array<bool, 256> ends_token{};
  std::array<bool, 256> opens_value{};
  constexpr ByteClasses() {
    for (const char c : {' ', kEnrichedSeparator, '\n', '\t'}) {
      ends_token[static_cast<unsigned char>(c)] = true;
    }
    for (const char c : {'"', '\'', '{'}) opens_value[static_cast<unsigned char>(c)] = true;
  }
};
constexpr ByteClasses kByteClasses;

inline bool ends_token(char c) { return kByteClasses.ends_token[static_cast<unsigned char>(c)]; }
inline bool opens_value(char c) { return kByteClasses.opens_value[static_cast<unsigned char>(c)]; }

// Word-at-a-time search for the scanner's stop bytes (values and keys are mostly short runs of
// plain bytes). Every token delimiter is below 0x21, so a word is first tested for any byte below
// 0x21 (rare inside a token); the lowest flagged byte is then checked exactly.

// The first token delimiter in [p, end), or end.
inline const char* find_token_end(const char* p, const char* end) {
  while (end - p >= 8) {
    const std::uint64_t mask = bytes_below_0x21(load_le64(p));
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
    const std::uint64_t x = load_le64(p);
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
      if (ends_token(*p)) {
        ++p;
      } else if (nested_list || end - p < 8 || !split_short_key_field(p, end)) {
        p = split_field(p, end, text, nested_list, depth);
      }
    }
  }

  // The common field, handled from one word: a key of 1..7 bytes (its '=' among the eight bytes
  // at p) and a bare or double-quoted value. The same word often holds the end of the value
  // too. Returns false, having done nothing, for anything else (split_field's general rules
  // decide); what it does handle, it handles exactly as split_field would in an outer list.
  // Needs eight readable bytes at p, and *p not a delimiter.
  bool split_short_key_field(const char*& p, const char* end) {
    const std::uint64_t x = load_le64(p);
    const std::uint64_t below = bytes_below_0x21(x);
    const std::uint64_t stops = below | bytes_equal(x, '=');
    if (stops == 0) return false;
    const std::size_t key_size = first_flagged_index(stops);
    const char* const value_begin = p + key_size + 1;
    if (p[key_size] != '=' || key_size == 0 || value_begin == end) return false;
    const std::string_view key(p, key_size);
    if (*value_begin == '"') {
      const char* const quoted = value_begin + 1;
      const void* close = std::memchr(quoted, '"', static_cast<std::size_t>(end - quoted));
      const char* const value_end = close ? static_cast<const char*>(close) : end;
      out.push_back(Field{key,
                          std::string_view(quoted, static_cast<std::size_t>(value_end - quoted)),
                          ValueForm::quoted});
      p = close ? value_end + 1 : end;
      return true;
    }
    if (opens_value(*value_begin)) return false;
    // `below` flags no byte before the '=': its lowest flag, if any, is in the value or ends it.
    const char* value_end = nullptr;
    if (below == 0) {
      value_end = find_token_end(p + 8, end);  // no delimiter in the word: the value goes on
    } else {
      value_end = first_flagged(p, below);
      // A control byte that is not a delimiter belongs to the value.
      if (!ends_token(*value_end)) value_end = find_token_end(value_end + 1, end);
    }
    out.push_back(
        Field{key, std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin)),
              ValueForm::bare});
    p = value_end == end ? end : value_end + 1;  // past the delimiter that ended the value
    return true;
  }

  // Splits the field, or skips the prose word, at p (not a delimiter). Returns where the text
  // after it starts.
  const char* split_field(const char* p, const char* end, std::string_view text, bool nested_list,
                          int depth) {
    // Key: up to '='; a word that reaches a delimiter first is prose and is skipped.
    const char* key_begin = p;
    p = find_key_end(p, end);
    if (p == end || *p != '=') return p;
    if (nested_list) {
      while (key_begin < p && *key_begin == '(') ++key_begin;
    }
    const std::string_view key(key_begin, static_cast<std::size_t>(p - key_begin));
    ++p;  // '='
    if (key.empty()) {
      return find_token_end(p, end);  // "=value" is not a field
    }
    if (p < end && *p == '"') {
      const char* value_begin = p + 1;
      const void* close =
          std::memchr(value_begin, '"', static_cast<std::size_t>(end - value_begin));
      const char* value_end = close ? static_cast<const char*>(close) : end;
      out.push_back(Field{
          key, std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin)),
          ValueForm::quoted});
      return close ? value_end + 1 : end;
    }
    if (p < end && *p == '\'') {
      const std::size_t from = static_cast<std::size_t>(p + 1 - text.data());
      const std::size_t close = find_single_quote_end(text, from);
      const std::size_t value_end = close == std::string_view::npos ? text.size() : close;
      const std::string_view value = text.substr(from, value_end - from);
      out.push_back(Field{key, value, ValueForm::single_quoted});
      if (depth < kMaxNestingDepth && nested_count < kMaxNestedLists &&
          value.find('=') != std::string_view::npos) {
        nested[nested_count++] = value;
      }
      return text.data() + (close == std::string_view::npos ? text.size() : close + 1);
    }
    if (p < end && *p == '{') {
      // An enriched value in braces (SADDR={ saddr_fam=inet laddr=10.0.0.1 lport=22 }) is one
      // value, braces included: its inner key=value words are not fields of the record.
      const void* close = std::memchr(p, '}', static_cast<std::size_t>(end - p));
      const char* value_end = close ? static_cast<const char*>(close) + 1 : end;
      out.push_back(Field{key, std::string_view(p, static_cast<std::size_t>(value_end - p)),
                          ValueForm::bare});
      return value_end;
    }
    const char* value_begin = p;
    p = find_token_end(p, end);
    const char* value_end = p;
    if (nested_list) {
      while (value_end > value_begin && (value_end[-1] == ',' || value_end[-1] == ')')) {
        --value_end;
      }
    }
    out.push_back(
        Field{key, std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin)),
              ValueForm::bare});
    return p;
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
  const std::size_t name_end = static_cast<std::size_t>(
      find_byte(line.data(), line.data() + line.size(), ' ') - line.data());
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
