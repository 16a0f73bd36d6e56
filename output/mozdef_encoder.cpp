#include "output/mozdef_encoder.h"

#include <arpa/inet.h>
#include <libaudit.h>
#include <netinet/in.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "correlate/execve.h"
#include "correlate/interpret.h"
#include "correlate/process_table.h"
#include "correlate/record.h"
#include "correlate/words.h"
#include "output/mozdef_details.h"

namespace aurelay::output {

namespace {

using correlate::Field;
using correlate::ValueForm;

// `text == literal`, with the literal's length known at compile time (compiles to a few loads
// and compares; field names are compared millions of times).
template <std::size_t N>
[[gnu::always_inline]] inline bool is(std::string_view text, const char (&literal)[N]) {
  return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

// The document being written: a byte buffer of its own that is never zero-filled (it grows by
// doubling and is reused for every document), written through a raw pointer so a byte costs a
// store. The finished document is appended to the batch in one copy. RapidJSON writes into it
// only to escape strings that need it.
struct BufferStream {
  using Ch = char;
  std::unique_ptr<char[]> storage;
  char* data = nullptr;
  std::size_t len = 0;
  std::size_t cap = 0;

  void begin() {
    len = 0;
    ensure(4096);
  }
  void release() {
    storage.reset();
    data = nullptr;
    len = cap = 0;
  }
  void ensure(std::size_t n) {
    if (cap - len < n) grow(n);
  }
  void grow(std::size_t n) {
    std::size_t new_cap = std::max(cap * 2, len + n + 4096);
    std::unique_ptr<char[]> bigger(new char[new_cap]);  // not zero-filled
    if (len > 0) std::memcpy(bigger.get(), data, len);
    storage = std::move(bigger);
    data = storage.get();
    cap = new_cap;
  }
  void Put(char c) {
    ensure(1);
    data[len++] = c;
  }
  void put_unchecked(char c) { data[len++] = c; }
  void append(const char* p, std::size_t n) {
    ensure(n);
    std::memcpy(data + len, p, n);
    len += n;
  }
  void append_unchecked(const char* p, std::size_t n) {
    std::memcpy(data + len, p, n);
    len += n;
  }
  void Flush() {}
};
// Found by ADL from inside rapidjson::Writer; preferred over rapidjson's generic templates.
inline void PutReserve(BufferStream& stream, std::size_t count) { stream.ensure(count); }
inline void PutUnsafe(BufferStream& stream, char c) { stream.data[stream.len++] = c; }

using JsonWriter = rapidjson::Writer<BufferStream, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                     rapidjson::CrtAllocator, rapidjson::kWriteNoFlags>;

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there does not start one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t n = s.size() - i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (byte(i + 1) & 0xC0) == 0x80) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3) return 0;
    unsigned char c1 = byte(i + 1), c2 = byte(i + 2);
    if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4) return 0;
    unsigned char c1 = byte(i + 1), c2 = byte(i + 2), c3 = byte(i + 3);
    if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c3 & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Keys whose values the kernel or user space hex-encodes when they hold special bytes.
bool is_encoded_key(std::string_view key) {
  switch (key.size()) {
    case 2:
      return is(key, "vm") || is(key, "sw");
    case 3:
      return is(key, "cwd") || is(key, "exe") || is(key, "key") || is(key, "cmd") ||
             is(key, "dir") || is(key, "grp");
    case 4:
      return is(key, "name") || is(key, "comm") || is(key, "acct") || is(key, "data") ||
             is(key, "path");
    case 5:
      return is(key, "ocomm") || is(key, "watch");
    case 6:
      return is(key, "cgroup");
    case 8:
      return is(key, "root_dir");
    case 9:
      return is(key, "new_group") || is(key, "old_group") || is(key, "proctitle") ||
             is(key, "new-group") || is(key, "old-group");
    default:
      return false;
  }
}

std::string_view lower_type_name(std::uint32_t type, std::string& scratch) {
  std::string_view name = correlate::record_type_name(type);
  scratch.clear();
  if (name.empty()) {
    scratch.append("unknown");
    char buf[12];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, type);
    scratch.append(buf, static_cast<std::size_t>(end - buf));
    return scratch;
  }
  for (char c : name) scratch.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  return scratch;
}

// Appends the ISO-8601 UTC time of sec.msec: 2026-11-22T10:03:09.858+00:00.
void append_timestamp(std::string& out, std::uint64_t sec, std::uint32_t msec) {
  // Days since 1970-01-01 to civil date (Howard Hinnant's algorithm).
  std::int64_t days = static_cast<std::int64_t>(sec / 86400);
  std::uint32_t rem = static_cast<std::uint32_t>(sec % 86400);
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = static_cast<std::uint32_t>(days - era * 146097);
  std::uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400;
  std::uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::uint32_t mp = (5 * doy + 2) / 153;
  std::uint32_t day = doy - (153 * mp + 2) / 5 + 1;
  std::uint32_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  char buf[40];
  char* p = buf;
  auto put = [&](std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  put(static_cast<std::uint64_t>(year), 4);
  *p++ = '-';
  put(month, 2);
  *p++ = '-';
  put(day, 2);
  *p++ = 'T';
  put(rem / 3600, 2);
  *p++ = ':';
  put(rem / 60 % 60, 2);
  *p++ = ':';
  put(rem % 60, 2);
  *p++ = '.';
  put(msec % 1000, 3);
  std::memcpy(p, "+00:00", 6);
  p += 6;
  out.append(buf, static_cast<std::size_t>(p - buf));
}

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// audisp-json's categories by syscall name (it matched name prefixes; the lists here name the
// syscalls those prefixes meant, plus the obvious siblings it missed).
std::string_view syscall_category(std::string_view name) {
  auto starts = [&](std::string_view prefix) { return name.starts_with(prefix); };
  auto one_of = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names)
      if (n == name) return true;
    return false;
  };
  if (starts("execve")) return "execve";
  if (starts("write") || starts("pwrite") || starts("unlink") || starts("rename") ||
      one_of({"truncate", "ftruncate", "creat"}))
    return "write";
  if (starts("read") || starts("pread") || starts("open") || starts("link") || starts("mmap") ||
      starts("sendfile"))
    return "read";
  if (one_of({"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
              "setxattrat", "removexattrat"}))
    return "attribute";
  if (one_of({"chmod", "fchmod", "fchmodat", "fchmodat2"})) return "chmod";
  if (starts("chown") || starts("fchown") || starts("lchown")) return "chown";
  if (is(name, "ptrace")) return "ptrace";
  if (one_of({"adjtimex", "settimeofday", "clock_settime", "clock_adjtime", "stime"}))
    return "time";
  if (starts("mknod")) return "specialfiles";
  if (one_of({"socket", "socketpair"})) return "socket";
  if (is(name, "listen")) return "listen";
  return {};
}

// Byte classes for copy_scanning(): 1 = JSON must escape it (< 0x20, '"', '\\'), 2 = not ASCII.
struct ByteClassTable {
  std::array<std::uint8_t, 256> of{};
  constexpr ByteClassTable() {
    for (int c = 0; c < 0x20; ++c) of[c] = 1;
    of[static_cast<unsigned char>('"')] = 1;
    of[static_cast<unsigned char>('\\')] = 1;
    for (int c = 0x80; c < 0x100; ++c) of[c] = 2;
  }
};
constexpr ByteClassTable kByteClass;

// What copy_scanning() found in a value (the byte classes above): 0 for clean ASCII.
constexpr unsigned kNeedsEscape = 1;
constexpr unsigned kNotAscii = 2;

// Copies `value` to `out` (room for value.size() bytes) and finds on the way whether it has
// bytes JSON must escape (< 0x20, '"', '\\') or non-ASCII bytes: eight bytes at a time (values
// are mostly clean ASCII), the last word overlapping the one before; 4 to 7 bytes as two
// overlapping 4-byte words, fewer through a table. Returns kNeedsEscape and/or kNotAscii (in a
// register, not through memory).
inline unsigned copy_scanning(std::string_view value, char* out) {
  const std::size_t size = value.size();
  const char* in = value.data();
  if (size >= 4 && size < 8) {  // two overlapping 4-byte words
    constexpr std::uint32_t kOnes = 0x01010101u, kHighs = 0x80808080u;
    auto has_zero = [](std::uint32_t v) { return (v - kOnes) & ~v & kHighs; };
    std::uint32_t first, last;
    std::memcpy(&first, in, 4);
    std::memcpy(&last, in + size - 4, 4);
    std::memcpy(out, &first, 4);
    std::memcpy(out + size - 4, &last, 4);
    std::uint32_t special = 0;
    for (std::uint32_t x : {first, last})
      special |= ((x - kOnes * 0x20) & ~x & kHighs) | has_zero(x ^ (kOnes * '"')) |
                 has_zero(x ^ (kOnes * '\\'));
    return (special != 0 ? kNeedsEscape : 0) | (((first | last) & kHighs) != 0 ? kNotAscii : 0);
  }
  if (size < 8) {
    unsigned classes = 0;
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = in[i];
      classes |= kByteClass.of[static_cast<unsigned char>(in[i])];
    }
    return classes;
  }
  std::uint64_t special = 0, high = 0;
  auto word = [&](std::size_t i) {
    std::uint64_t x;  // in host order: only whether a byte is flagged matters here
    std::memcpy(&x, in + i, 8);
    std::memcpy(out + i, &x, 8);
    high |= x & correlate::words::kHighs;
    special |= correlate::words::bytes_below(x, 0x20) | correlate::words::bytes_equal(x, '"') |
               correlate::words::bytes_equal(x, '\\');
  };
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) word(i);
  if (i < size) word(size - 8);
  return (special != 0 ? kNeedsEscape : 0) | (high != 0 ? kNotAscii : 0);
}

// One record of the event being encoded: its own fields are State::fields[begin, end) (the
// enriched fields after 0x1D are auditd's reading of the record and are not kept).
struct RecordFields {
  std::uint32_t type;
  std::uint32_t begin;
  std::uint32_t end;
};

// How a record field's value becomes its key's value.
enum class Transform : std::uint8_t {
  plain,         // as written
  decoded,       // hex-decoded when the kernel encoded it
  with_user,     // an id, plus the user name in the next key
  with_group,    // an id, plus the group name in the next key
  boolean,       // yes/success/1 -> true, no/failed/fail/0 -> false
  ip_address,    // kept only when it parses as an IP address
  arch_name,     // AUDIT_ARCH_* in hex -> machine name
  syscall_name,  // number -> name for the record's arch
};

struct FieldTarget {
  DetailKey key = DetailKey::count;  // count: no key of its own (goes to `extra`)
  Transform transform = Transform::plain;
};

using K = DetailKey;
using T = Transform;

// ---------------------------------------------------------------- which field feeds which key

// The key of a field that means the same in every record that has it.
FieldTarget common_field(std::string_view field) {
  switch (field.size()) {
    case 2:
      if (is(field, "id")) return {K::accountid, T::plain};
      if (is(field, "op")) return {K::operation, T::plain};
      break;
    case 3:
      if (is(field, "pid")) return {K::pid, T::plain};
      if (is(field, "uid")) return {K::uid, T::with_user};
      if (is(field, "gid")) return {K::gid, T::with_group};
      if (is(field, "ses")) return {K::session, T::plain};
      if (is(field, "tty")) return {K::tty, T::plain};
      if (is(field, "exe")) return {K::process, T::decoded};
      if (is(field, "key")) return {K::auditkey, T::decoded};
      if (is(field, "res")) return {K::success, T::boolean};
      break;
    case 4:
      if (is(field, "auid")) return {K::originaluid, T::with_user};
      if (is(field, "ppid")) return {K::ppid, T::plain};
      if (is(field, "euid")) return {K::euid, T::plain};
      if (is(field, "suid")) return {K::suid, T::plain};
      if (is(field, "egid")) return {K::egid, T::plain};
      if (is(field, "sgid")) return {K::sgid, T::plain};
      if (is(field, "comm")) return {K::processname, T::decoded};
      if (is(field, "subj")) return {K::subject, T::plain};
      if (is(field, "acct")) return {K::username, T::decoded};
      if (is(field, "addr")) return {K::sourceipaddress, T::ip_address};
      if (is(field, "unit")) return {K::unit, T::plain};
      break;
    case 5:
      if (is(field, "fsuid")) return {K::fsuid, T::plain};
      if (is(field, "fsgid")) return {K::fsgid, T::plain};
      if (is(field, "rport")) return {K::sourceport, T::plain};
      break;
    case 8:
      if (is(field, "hostname")) return {K::remotehostname, T::plain};
      if (is(field, "terminal")) return {K::terminal, T::plain};
      if (is(field, "grantors")) return {K::grantors, T::plain};
      break;
    default:
      break;
  }
  return {};
}

// The keys the fields of one record type feed; each falls back to common_field (but OBJ_PID).

FieldTarget syscall_field(std::string_view field) {  // the most frequent record: by length first
  switch (field.size()) {
    case 2:
      if (field[0] == 'a' && field[1] >= '0' && field[1] <= '3')
        return {static_cast<DetailKey>(static_cast<int>(K::a0) + (field[1] - '0')), T::plain};
      break;
    case 3:
      if (is(field, "per")) return {K::personality, T::plain};
      break;
    case 4:
      if (is(field, "arch")) return {K::arch, T::arch_name};
      if (is(field, "exit")) return {K::exit, T::plain};
      break;
    case 5:
      if (is(field, "items")) return {K::items, T::plain};
      break;
    case 7:
      if (is(field, "syscall")) return {K::syscall, T::syscall_name};
      if (is(field, "success")) return {K::success, T::boolean};
      break;
    default:
      break;
  }
  return common_field(field);
}

FieldTarget seccomp_field(std::string_view field) {
  if (is(field, "arch")) return {K::arch, T::arch_name};
  if (is(field, "syscall")) return {K::syscall, T::syscall_name};
  if (is(field, "code")) return {K::seccompaction, T::plain};
  if (is(field, "sig")) return {K::signal, T::plain};
  return common_field(field);
}

FieldTarget abend_field(std::string_view field) {
  if (is(field, "sig")) return {K::signal, T::plain};
  return common_field(field);
}

FieldTarget promiscuous_field(std::string_view field) {
  if (is(field, "dev")) return {K::dev, T::decoded};
  if (is(field, "prom")) return {K::promiscuous, T::plain};
  if (is(field, "old_prom")) return {K::oldpromiscuous, T::plain};
  return common_field(field);
}

FieldTarget config_change_field(std::string_view field) {
  if (is(field, "list")) return {K::rulelist, T::plain};
  if (is(field, "key")) return {K::rulekey, T::decoded};
  return common_field(field);
}

FieldTarget login_field(std::string_view field) {
  if (is(field, "old-auid")) return {K::oldoriginaluid, T::plain};
  if (is(field, "old-ses")) return {K::oldsession, T::plain};
  return common_field(field);
}

FieldTarget netfilter_field(std::string_view field) {
  if (is(field, "table")) return {K::nftable, T::plain};
  if (is(field, "entries")) return {K::nfentries, T::plain};
  if (is(field, "family")) return {K::nffamily, T::plain};
  return common_field(field);
}

FieldTarget target_process_field(std::string_view field) {
  if (is(field, "opid")) return {K::targetpid, T::plain};
  if (is(field, "ocomm")) return {K::targetprocessname, T::decoded};
  return {};  // its oauid, ouid, oses describe the target, not the actor
}

FieldTarget user_command_field(std::string_view field) {
  if (is(field, "cmd")) return {K::command, T::decoded};
  if (is(field, "cwd")) return {K::cwd, T::decoded};
  return common_field(field);
}

// PATH fields of the chosen PATH record that have keys.
DetailKey path_field(std::string_view field) {
  if (is(field, "name")) return K::path;
  if (is(field, "nametype")) return K::nametype;
  if (is(field, "inode")) return K::inode;
  if (is(field, "dev")) return K::dev;
  if (is(field, "mode")) return K::mode;
  if (is(field, "ouid")) return K::ouid;
  if (is(field, "ogid")) return K::ogid;
  if (is(field, "rdev")) return K::rdev;
  return K::count;
}

// Values that say "no value": kept out of the document (documented in the field reference).
inline bool is_absent_marker(std::string_view value) {
  switch (value.size()) {
    case 0:
      return true;
    case 1:
      return value[0] == '?';
    case 6:
      return is(value, "(null)") || is(value, "(none)");
    default:
      return false;
  }
}

// File capability fields of PATH records: "0" (no file capabilities) in nearly every record.
bool is_empty_file_capability(const Field& f) {
  return f.key.starts_with("cap_f") && is(f.value, "0");
}

// Where the peer address of a socket syscall goes.
enum class PeerRole : std::uint8_t { none, destination, source };
PeerRole peer_role(std::string_view syscall) {
  if (is(syscall, "connect") || is(syscall, "sendto") || is(syscall, "sendmsg") ||
      is(syscall, "sendmmsg"))
    return PeerRole::destination;
  if (is(syscall, "accept") || is(syscall, "accept4") || is(syscall, "recvfrom") ||
      is(syscall, "recvmsg") || is(syscall, "recvmmsg"))
    return PeerRole::source;
  return PeerRole::none;
}

bool parses_as_ip(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

// A value of this document: a view into the event's own text (which outlives the encoding), or a
// range of State::arena (values made here: decoded, names, joined), by offset since the arena
// may grow.
struct ValueRef {
  const char* text = nullptr;  // where the value lies (the event's text, or memory that outlives
                               // the document); nullptr: in the arena at `offset`
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

// What the encoder needs to know of an event before it takes its records.
struct EventOutline {
  static constexpr std::size_t kNone = SIZE_MAX;
  std::size_t syscall_record = kNone;  // the first SYSCALL record: its values win
  std::size_t first_record = kNone;    // the first record that is not EOE
  std::size_t chosen_path = kNone;     // the PATH record whose fields get keys (K::path, ...)
  std::size_t path_count = 0;
  bool has_execve = false;
  bool changes_accounts = false;  // a user or group was added, removed or changed
};

struct RecordRole;
const RecordRole* role_of(std::uint32_t type);
FieldTarget (*field_map_of(std::uint32_t type))(std::string_view);

}  // namespace

struct MozdefEncoder::State {
  EncoderConfig config;
  StatsStorage<EncoderStats> stats;
  std::vector<std::string> tags;
  std::string own_pid;

  correlate::SyscallNames syscalls;
  correlate::IdNames ids;
  correlate::ExecveArguments execve;
  correlate::SocketAddress sockaddr;
  correlate::ProcessTable processes;

  std::vector<Field> fields;
  std::vector<RecordFields> records;
  EventOutline outline;

  // The details of the document being built: every value is copied into `arena` (reused, so
  // the steady state allocates nothing) and referenced by offset.
  std::string arena;
  std::string_view event_text;  // all record bodies of the event being encoded (contiguous)
  std::array<ValueRef, kDetailKeyCount> values{};
  // Which details keys have a value: a bit per key, walked in key order by for_each.
  struct KeySet {
    static constexpr std::size_t kWords = (kDetailKeyCount + 63) / 64;
    std::array<std::uint64_t, kWords> words{};
    bool test(std::size_t i) const { return (words[i / 64] >> (i % 64) & 1) != 0; }
    void set(std::size_t i) { words[i / 64] |= std::uint64_t{1} << (i % 64); }
    void reset() { words.fill(0); }
    template <typename Visit>
    void for_each(Visit&& visit) const {
      for (std::size_t w = 0; w < kWords; ++w)
        for (std::uint64_t bits = words[w]; bits != 0; bits &= bits - 1)
          visit(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
    }
  };
  KeySet present;
  std::vector<ValueRef> paths, nametypes, extra;

  std::string category;
  std::string syscall;
  std::string summary;
  std::string text;        // general scratch (ids, timestamps)
  std::string decoded;     // hex decoding scratch
  std::string sanitized;   // invalid UTF-8 repair scratch
  std::string type_name;   // lower-case type name scratch
  std::string truncation;  // "key:bytes" notes of the values cut in this document, '\0' apart
  std::size_t truncation_count = 0;

  // The document's structure (objects, keys, the tags array) is written directly: a comma
  // before every member or element but the first of its container. RapidJSON's writer only
  // escapes the strings that need escaping (as a root value of its own, after a Reset).
  BufferStream stream;
  JsonWriter escaper;
  bool need_comma = false;

  State(EncoderConfig c, EncoderStats* external_stats,
        correlate::ProcessTableStats* process_table_stats)
      : config(std::move(c)),
        stats(external_stats),
        syscalls(&stats->unknown_syscalls),
        ids(config.id_cache_size, correlate::IdNames::default_account_files(), &stats->id_lookups),
        processes(config.process_table, process_table_stats) {
    std::string_view rest = config.tags;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view tag = rest.substr(0, comma);
      if (!tag.empty()) tags.emplace_back(tag);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (config.hostname.empty()) {
      char host[256] = {};
      if (gethostname(host, sizeof host - 1) == 0) config.hostname = host;
      if (config.hostname.empty()) config.hostname = "localhost";
    }
    if (config.max_value_bytes < 16) config.max_value_bytes = 16;
    append_number(own_pid, static_cast<std::uint64_t>(getpid()));
    severity_member = render_constant([&] { member("severity", config.severity); });
    hostname_member = render_constant([&] { member("hostname", config.hostname); });
    if (!config.shipper_name.empty()) {
      shipper_members = render_constant([&] {
        member("processid", own_pid);
        member("processname", config.shipper_name);
      });
    }
    tags_member = render_constant([&] {
      write_key("tags");
      open('[');
      for (const std::string& tag : tags) string(tag, "tags");
      close(']');
    });
  }

  // Members whose values are the same in every document (`,"severity":"INFO"`, the tags, ...),
  // rendered once. Empty when rendering one cuts or repairs a value: that has to be counted and
  // noted in each document, so such a member is written per document.
  std::string severity_member, hostname_member, shipper_members, tags_member;

  template <typename Write>
  std::string render_constant(Write write) {
    const std::uint64_t truncated_before = value_of(stats->values_truncated);
    const std::uint64_t fixed_before = value_of(stats->invalid_utf8_fixed);
    stream.begin();
    need_comma = true;
    write();
    const bool unchanged = value_of(stats->values_truncated) == truncated_before &&
                           value_of(stats->invalid_utf8_fixed) == fixed_before;
    std::string rendered = unchanged ? std::string(stream.data, stream.len) : std::string();
    stats->values_truncated.store(truncated_before, std::memory_order_relaxed);
    stats->invalid_utf8_fixed.store(fixed_before, std::memory_order_relaxed);
    truncation.clear();
    truncation_count = 0;
    return rendered;
  }
  template <typename Write>
  void write_constant(const std::string& rendered, Write write) {
    if (rendered.empty()) {
      write();
      return;
    }
    stream.append(rendered.data(), rendered.size());
    need_comma = true;
  }

  // --- JSON writing ---

  // Writes `value` as a JSON string literal: invalid UTF-8 bytes become U+00XX, a value longer
  // than max_value_bytes (after that repair) is cut at a character boundary and noted under
  // `name` in the `truncated` list.
  void string_text(std::string_view value, std::string_view name) {
    const std::size_t limit = config.max_value_bytes;
    bool escape = false, non_ascii = false, noted = false;
    if (value.size() <= limit) {
      // Optimistic: copy the bytes behind an opening quote while scanning them; a clean value
      // (the common case) is then done. Otherwise the copy is overwritten below.
      stream.ensure(value.size() + 2);
      const unsigned found = copy_scanning(value, stream.data + stream.len + 1);
      escape = (found & kNeedsEscape) != 0;
      non_ascii = (found & kNotAscii) != 0;
      if (found == 0) {
        stream.data[stream.len] = '"';
        stream.data[stream.len + 1 + value.size()] = '"';
        stream.len += value.size() + 2;
        return;
      }
    } else {
      // Too long: only the bytes that can end up in the document are read (a sequence that
      // starts before the limit ends within 3 bytes of it); the note gives the full size.
      note_truncation(name, value.size());
      noted = true;
      value = value.substr(0, limit + 3);
      escape = non_ascii = true;  // not scanned: take the careful path
    }
    if (non_ascii) {
      std::size_t check = 0;
      while (check < value.size()) {
        std::size_t n = utf8_sequence_length(value, check);
        if (n == 0) break;
        check += n;
      }
      if (check < value.size()) {  // invalid UTF-8 from `check` on: repair
        sanitized.clear();
        sanitized.append(value.substr(0, check));
        while (check < value.size()) {
          std::size_t n = utf8_sequence_length(value, check);
          if (n == 0) {
            auto byte = static_cast<unsigned char>(value[check]);
            sanitized.push_back(static_cast<char>(0xC0 | (byte >> 6)));
            sanitized.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
            ++check;
          } else {
            sanitized.append(value.substr(check, n));
            check += n;
          }
        }
        increment(stats->invalid_utf8_fixed);
        value = sanitized;
      }
    }
    if (value.size() > limit) {
      std::size_t cut = limit;
      while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
      if (!noted) note_truncation(name, value.size());  // the repair made it too long
      value = value.substr(0, cut);
    }
    escaper.Reset(stream);
    escaper.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  void note_truncation(std::string_view name, std::size_t original_size) {
    increment(stats->values_truncated);
    ++truncation_count;
    truncation.append(name);
    truncation.push_back(':');
    append_number(truncation, original_size);
    truncation.push_back('\0');
  }
  void separator() {
    if (need_comma) stream.Put(',');
  }
  void write_key(std::string_view k) {
    separator();
    stream.ensure(k.size() + 3);
    stream.put_unchecked('"');
    stream.append_unchecked(k.data(), k.size());  // keys are this file's own names
    stream.put_unchecked('"');
    stream.put_unchecked(':');
    need_comma = false;
  }
  // `,"name":` of every details key, made once: a member's key is one copy.
  // Back to back, each padded to kQuotedKeyRoom bytes so a key is one fixed-size copy.
  static constexpr std::size_t kQuotedKeyRoom = 32;
  struct QuotedDetailKeys {
    std::array<char, kDetailKeyCount * kQuotedKeyRoom> text{};
    std::array<std::uint8_t, kDetailKeyCount> size{};
    QuotedDetailKeys() {
      for (std::size_t i = 0; i < kDetailKeyCount; ++i) {
        const std::string quoted = ",\"" + std::string(detail_keys()[i].name) + "\":";
        if (quoted.size() >= kQuotedKeyRoom) std::abort();  // a longer key: raise kQuotedKeyRoom
        std::memcpy(text.data() + i * kQuotedKeyRoom, quoted.data(), quoted.size());
        size[i] = static_cast<std::uint8_t>(quoted.size());
      }
    }
  };
  static const QuotedDetailKeys& quoted_detail_keys() {
    static const QuotedDetailKeys keys;
    return keys;
  }
  const QuotedDetailKeys& quoted_keys = quoted_detail_keys();
  void write_detail_key(std::size_t index) {
    const std::size_t skip = need_comma ? 0 : 1;  // the comma
    stream.ensure(kQuotedKeyRoom);
    std::memcpy(stream.data + stream.len, quoted_keys.text.data() + index * kQuotedKeyRoom + skip,
                kQuotedKeyRoom - 1);
    stream.len += quoted_keys.size[index] - skip;
    need_comma = false;
  }
  // Writes the details member `,"key":"value"` with one room check when the value is clean
  // (valid ASCII that needs no escaping, not too long: the common case); returns false, having
  // written nothing, when it is not.
  bool plain_detail_member(std::size_t index, std::string_view value) {
    if (value.size() > config.max_value_bytes) return false;
    stream.ensure(kQuotedKeyRoom + value.size() + 2);
    const std::size_t skip = need_comma ? 0 : 1;  // the comma
    char* out = stream.data + stream.len;
    std::memcpy(out, quoted_keys.text.data() + index * kQuotedKeyRoom + skip, kQuotedKeyRoom - 1);
    return commit_plain_member(quoted_keys.size[index] - skip, value);
  }
  // The same for a member of the document's top level.
  bool plain_member(std::string_view k, std::string_view value) {
    if (value.size() > config.max_value_bytes) return false;
    stream.ensure(k.size() + value.size() + 6);
    char* out = stream.data + stream.len;
    std::size_t key_size = 0;
    if (need_comma) out[key_size++] = ',';
    out[key_size++] = '"';
    std::memcpy(out + key_size, k.data(), k.size());  // keys are this file's own names
    key_size += k.size();
    out[key_size++] = '"';
    out[key_size++] = ':';
    return commit_plain_member(key_size, value);
  }
  // The member's key (key_size bytes) is written after the stream's end, with room for `value`
  // quoted behind it: copies the value there and commits the member if the value is clean.
  bool commit_plain_member(std::size_t key_size, std::string_view value) {
    char* out = stream.data + stream.len + key_size;
    if (copy_scanning(value, out + 1) != 0) return false;
    out[0] = '"';
    out[1 + value.size()] = '"';
    stream.len += key_size + value.size() + 2;
    need_comma = true;
    return true;
  }
  void string(std::string_view value, std::string_view name) {
    separator();
    string_text(value, name);
    need_comma = true;
  }
  void member(std::string_view k, std::string_view v) {
    if (plain_member(k, v)) return;
    write_key(k);
    string(v, k);
  }
  void literal(std::string_view text) {
    separator();
    stream.append(text.data(), text.size());
    need_comma = true;
  }
  void open(char bracket) {  // '{' or '['
    separator();
    stream.Put(bracket);
    need_comma = false;
  }
  void close(char bracket) {  // '}' or ']'
    stream.Put(bracket);
    need_comma = true;
  }

  // --- details being built ---

  std::string_view view(ValueRef ref) const {
    if (ref.text != nullptr) return std::string_view(ref.text, ref.size);
    return std::string_view(arena).substr(ref.offset, ref.size);
  }
  // Keeps `value` for the document: a view when it lies in the event's text, else a copy.
  ValueRef store(std::string_view value) {
    const auto size = static_cast<std::uint32_t>(value.size());
    if (value.data() >= event_text.data() &&
        value.data() + size <= event_text.data() + event_text.size())
      return ValueRef{value.data(), 0, size};
    return store_copy(value);
  }
  // (The less common paths are functions of their own, so the common ones stay small.)
  [[gnu::noinline]] ValueRef store_copy(std::string_view value) {
    ValueRef ref{nullptr, static_cast<std::uint32_t>(arena.size()),
                 static_cast<std::uint32_t>(value.size())};
    arena.append(value);
    return ref;
  }
  bool has(DetailKey key) const { return present.test(static_cast<std::size_t>(key)); }
  std::string_view get(DetailKey key) const {
    return has(key) ? view(values[static_cast<std::size_t>(key)]) : std::string_view();
  }
  // Keeps "TYPE.field=value" in `extra`.
  void add_extra(std::uint32_t type, std::string_view field, std::string_view value,
                 std::string_view item = {}) {
    ValueRef ref{nullptr, static_cast<std::uint32_t>(arena.size()), 0};
    std::string_view name = correlate::record_type_name(type);
    if (name.empty()) {
      arena.append("UNKNOWN[");
      append_number(arena, type);
      arena.push_back(']');
    } else {
      arena.append(name);
    }
    arena.append(item);
    arena.push_back('.');
    arena.append(field);
    arena.push_back('=');
    arena.append(value);
    ref.size = static_cast<std::uint32_t>(arena.size() - ref.offset);
    extra.push_back(ref);
    increment(stats->extra_fields);
  }
  // Sets `key` to `value` unless it has one: an equal second value is dropped, a different one
  // is kept in `extra` under its record type and field name.
  void set(DetailKey key, std::string_view value, std::uint32_t type, std::string_view field) {
    auto index = static_cast<std::size_t>(key);
    if (claim(index))
      values[index] = store(value);
    else
      set_again(index, value, type, field);
  }
  // The first value of a key wins: true (and the key marked present) when `index` has none yet,
  // and the caller stores it; false when it has one (the caller calls set_again).
  bool claim(std::size_t index) {
    if (present.test(index)) return false;
    present.set(index);
    return true;
  }
  // set() for the value just appended to the arena from `from` on (made in place, not copied).
  void set_from_arena(DetailKey key, std::size_t from, std::uint32_t type, std::string_view field) {
    auto index = static_cast<std::size_t>(key);
    const auto size = static_cast<std::uint32_t>(arena.size() - from);
    if (claim(index)) {
      values[index] = ValueRef{nullptr, static_cast<std::uint32_t>(from), size};
      return;
    }
    text.assign(arena, from, size);  // add_extra appends to the arena: compare a copy
    arena.resize(from);
    set_again(index, text, type, field);
  }
  // set() for a value that outlives the document (a literal, a name from libaudit's tables, the
  // event's own text, the encoder's remembered type list): kept as a view, never copied.
  void set_lasting(DetailKey key, std::string_view value, std::uint32_t type,
                   std::string_view field) {
    auto index = static_cast<std::size_t>(key);
    if (claim(index))
      values[index] = ValueRef{value.data(), 0, static_cast<std::uint32_t>(value.size())};
    else
      set_again(index, value, type, field);
  }
  [[gnu::noinline]] void set_again(std::size_t index, std::string_view value, std::uint32_t type,
                                   std::string_view field) {
    if (view(values[index]) != value) add_extra(type, field, value);
  }

  // --- the event's records ---

  // Splits every record of `event` once and notes what the event holds.
  void outline_records(const correlate::Event& event) {
    fields.clear();
    records.clear();
    outline = EventOutline{};
    for (std::size_t i = 0; i < event.record_count(); ++i) {
      const std::uint32_t type = event.record_type(i);
      const auto begin = static_cast<std::uint32_t>(fields.size());
      const std::size_t own_end = correlate::split_fields(event.record_body(i), fields);
      fields.resize(own_end);
      records.push_back(RecordFields{type, begin, static_cast<std::uint32_t>(own_end)});
      if (type != AUDIT_EOE && outline.first_record == EventOutline::kNone)
        outline.first_record = i;
      if (type == AUDIT_SYSCALL && outline.syscall_record == EventOutline::kNone)
        outline.syscall_record = i;
      if (type == AUDIT_EXECVE) outline.has_execve = true;
      if (type == AUDIT_PATH) ++outline.path_count;
      if (changes_accounts(type)) outline.changes_accounts = true;
    }
    // The path the syscall acted on: the first PATH record that is not a PARENT (else the first).
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].type != AUDIT_PATH) continue;
      if (outline.chosen_path == EventOutline::kNone) outline.chosen_path = i;
      const Field* nametype = find(i, "nametype");
      if (nametype == nullptr || !is(nametype->value, "PARENT")) {
        outline.chosen_path = i;
        break;
      }
    }
  }
  static bool changes_accounts(std::uint32_t type);  // after the record roles

  std::span<const Field> record_fields(std::size_t r) const {
    return std::span<const Field>(fields.data() + records[r].begin,
                                  records[r].end - records[r].begin);
  }
  const Field* find(std::size_t r, std::string_view k) const {
    for (const Field& f : record_fields(r))
      if (f.key == k) return &f;
    return nullptr;
  }
  static std::string_view field_text(const Field& f, std::string& scratch) {
    if (f.form == ValueForm::bare && is_encoded_key(f.key))
      return correlate::decode_maybe_hex(f, scratch);
    return f.value;
  }

  // --- what each record type contributes (kRecordRoles below lists which type does what) ---

  // One field of a record of `type` with the key `field_map` gives it (or `extra` without one).
  void take_field(std::uint32_t type, FieldTarget (*field_map)(std::string_view), const Field& f,
                  const Field* arch) {
    if (f.form != ValueForm::single_quoted) {
      const FieldTarget target = field_map(f.key);
      if (target.key != K::count && target.transform == T::plain) {  // most fields
        if (!is_absent_marker(f.value)) set(target.key, f.value, type, f.key);
        return;
      }
      take_field_as(type, target, f, arch);
      return;
    }
    take_field_as(type, FieldTarget{K::count, T::plain}, f, arch);
  }
  // libaudit's names of the arch and the syscall, remembered for the last ones named (a busy
  // host repeats a few syscalls). Only names are remembered: an unknown number is looked up,
  // and counted, each time. The names are libaudit's own strings, valid for good.
  std::string named_arch, named_syscall_arch, named_syscall_number;
  std::string_view arch_name, syscall_name;
  std::string_view arch_name_of(std::string_view arch_hex) {
    if (!arch_name.empty() && arch_hex == named_arch) return arch_name;
    std::uint32_t number = 0;
    std::string_view name;
    if (correlate::parse_hex_u32(arch_hex, number)) name = syscalls.arch_name(number);
    named_arch.assign(arch_hex);
    arch_name = name;
    return name;
  }
  std::string_view syscall_name_of(std::string_view arch_hex, std::string_view number) {
    if (!syscall_name.empty() && number == named_syscall_number && arch_hex == named_syscall_arch)
      return syscall_name;
    const std::string_view name = syscalls.name(arch_hex, number);
    named_syscall_arch.assign(arch_hex);
    named_syscall_number.assign(number);
    syscall_name = name;
    return name;
  }

  // take_field() for a field that is not a plain value (`target` is its key and transform).
  [[gnu::noinline]] void take_field_as(std::uint32_t type, FieldTarget target, const Field& f,
                                       const Field* arch) {
    if (f.form == ValueForm::single_quoted) {
      // A user message's msg='...': its fields follow as nested fields; plain text is a message.
      if (is(f.key, "msg") && f.value.find('=') == std::string_view::npos)
        set(K::message, f.value, type, f.key);
      else if (!is(f.key, "msg"))
        add_extra(type, f.key, f.value);
      return;
    }
    if (target.key == K::count) {
      add_extra(type, f.key, field_text(f, decoded));
      return;
    }
    std::string_view value =
        target.transform == T::decoded ? field_text(f, decoded) : std::string_view(f.value);
    if (is_absent_marker(value)) return;
    switch (target.transform) {
      case T::plain:
      case T::decoded:
        set(target.key, value, type, f.key);
        break;
      case T::with_user:
        set(target.key, value, type, f.key);
        set(static_cast<DetailKey>(static_cast<std::size_t>(target.key) + 1), ids.user(value), type,
            f.key);
        break;
      case T::with_group:
        set(target.key, value, type, f.key);
        set(static_cast<DetailKey>(static_cast<std::size_t>(target.key) + 1), ids.group(value),
            type, f.key);
        break;
      case T::boolean:
        if (is(value, "yes") || is(value, "success") || is(value, "1"))
          set_lasting(target.key, "true", type, f.key);
        else if (is(value, "no") || is(value, "failed") || is(value, "fail") || is(value, "0"))
          set_lasting(target.key, "false", type, f.key);
        else
          add_extra(type, f.key, value);
        break;
      case T::ip_address:
        if (parses_as_ip(value))
          set(target.key, value, type, f.key);
        else
          add_extra(type, f.key, value);
        break;
      case T::arch_name: {
        const std::string_view name = arch_name_of(value);
        set_lasting(target.key, name.empty() ? value : name, type, f.key);
        break;
      }
      case T::syscall_name: {
        std::string_view name;
        if (arch != nullptr) name = syscall_name_of(arch->value, value);
        set_lasting(target.key, name.empty() ? value : name, type, f.key);
        break;
      }
    }
  }

  // Field by field, each to the key its type's field map names (the default).
  void take_fields(std::size_t r) {
    const std::uint32_t type = records[r].type;
    FieldTarget (*field_map)(std::string_view) = field_map_of(type);
    for (const Field& f : record_fields(r)) take_field(type, field_map, f, nullptr);
  }

  // Field by field, naming the syscall number by the record's own arch (SYSCALL, SECCOMP).
  void take_fields_with_arch(std::size_t r) {
    const std::uint32_t type = records[r].type;
    FieldTarget (*field_map)(std::string_view) = field_map_of(type);
    const Field* arch = find(r, "arch");
    for (const Field& f : record_fields(r)) take_field(type, field_map, f, arch);
  }

  void take_nothing(std::size_t /*record*/) {}

  // The arguments of every EXECVE record of the event, joined (taken once, right after the
  // SYSCALL record, so they win over a command a later record names).
  void take_execve_arguments(const correlate::Event& event) {
    if (!correlate::reassemble_execve(event, execve)) return;
    text.clear();
    for (std::size_t a = 0; a < execve.used; ++a) {
      if (a > 0) text.push_back(' ');
      text.append(execve.argv[a]);
    }
    set(K::command, text, AUDIT_EXECVE, "a0");
    text.clear();
    append_number(text, execve.argc);
    set(K::argc, text, AUDIT_EXECVE, "argc");
    if (!execve.complete()) set(K::argcomplete, "false", AUDIT_EXECVE, "argc");
  }

  void take_cwd(std::size_t r) {
    for (const Field& f : record_fields(r)) {
      if (is(f.key, "cwd"))
        set(K::cwd, field_text(f, decoded), AUDIT_CWD, f.key);
      else
        add_extra(AUDIT_CWD, f.key, f.value);
    }
  }

  void take_proctitle(std::size_t r) {
    for (const Field& f : record_fields(r)) {
      if (is(f.key, "proctitle")) {
        const std::size_t from = arena.size();
        correlate::decode_proctitle(f, arena);  // decoded where the document's values are kept
        set_from_arena(K::proctitle, from, AUDIT_PROCTITLE, f.key);
      } else {
        add_extra(AUDIT_PROCTITLE, f.key, f.value);
      }
    }
  }

  // The chosen PATH record gives path, nametype, inode, ...; with two or more PATH records every
  // name and nametype also go to paths and nametypes; the other records' fields go to `extra`.
  void take_path(std::size_t r) {
    const bool chosen = r == outline.chosen_path;
    const bool several = outline.path_count >= 2;
    const Field* item = find(r, "item");
    for (const Field& f : record_fields(r)) {
      if (is(f.key, "item") || is_empty_file_capability(f)) continue;
      if (several && (is(f.key, "name") || is(f.key, "nametype"))) {
        (is(f.key, "name") ? paths : nametypes).push_back(store(field_text(f, decoded)));
      }
      DetailKey key = path_field(f.key);
      if (chosen && key != K::count) {
        std::string_view value = key == K::path ? field_text(f, decoded) : f.value;
        if (!is_absent_marker(value)) set(key, value, AUDIT_PATH, f.key);
      } else if (!chosen && key != K::path && key != K::nametype) {
        add_extra(AUDIT_PATH, f.key, field_text(f, decoded),
                  item != nullptr ? item->value : std::string_view());
      } else if (chosen) {
        add_extra(AUDIT_PATH, f.key, field_text(f, decoded));
      }
    }
  }

  // saddr decoded to family, address and port; the peer of a connect or accept as the
  // destination or source address.
  void take_sockaddr(std::size_t r) {
    const Field* saddr = find(r, "saddr");
    bool decoded_ok = saddr != nullptr && correlate::decode_sockaddr(saddr->value, sockaddr);
    for (const Field& f : record_fields(r)) {
      if (&f != saddr) add_extra(AUDIT_SOCKADDR, f.key, f.value);
    }
    if (saddr == nullptr) return;
    if (!decoded_ok) {
      set(K::saddr, saddr->value, AUDIT_SOCKADDR, "saddr");
      return;
    }
    set(K::family, sockaddr.family, AUDIT_SOCKADDR, "saddr");
    if (!sockaddr.decoded) {
      set(K::saddr, saddr->value, AUDIT_SOCKADDR, "saddr");
      return;
    }
    if (!sockaddr.address.empty()) set(K::address, sockaddr.address, AUDIT_SOCKADDR, "saddr");
    if (!sockaddr.port.empty()) set(K::port, sockaddr.port, AUDIT_SOCKADDR, "saddr");
    const bool ip = is(sockaddr.family, "inet") || is(sockaddr.family, "inet6");
    if (!ip || !parses_as_ip(sockaddr.address)) return;
    switch (peer_role(syscall)) {
      case PeerRole::destination:
        set(K::destinationipaddress, sockaddr.address, AUDIT_SOCKADDR, "saddr");
        if (!sockaddr.port.empty()) set(K::destinationport, sockaddr.port, AUDIT_SOCKADDR, "saddr");
        break;
      case PeerRole::source:
        set(K::sourceipaddress, sockaddr.address, AUDIT_SOCKADDR, "saddr");
        if (!sockaddr.port.empty()) set(K::sourceport, sockaddr.port, AUDIT_SOCKADDR, "saddr");
        break;
      case PeerRole::none:
        break;
    }
  }

  void collect_details(const correlate::Event& event);  // after the record roles

  // The parent's name, from what the stream showed of the parent (or /proc, live).
  void take_parent() {
    if (outline.syscall_record == EventOutline::kNone) return;
    std::uint64_t pid = 0, ppid = 0;
    if (!correlate::parse_decimal_u64(get(K::pid), pid) ||
        !correlate::parse_decimal_u64(get(K::ppid), ppid))
      return;
    processes.observe(static_cast<std::uint32_t>(pid), static_cast<std::uint32_t>(ppid),
                      get(K::processname), get(K::process));
    std::string_view parent = processes.name_of(static_cast<std::uint32_t>(ppid));
    if (!parent.empty()) set(K::parentprocess, parent, AUDIT_SYSCALL, "ppid");
  }

  // --- category and summary ---

  void describe(const correlate::Event& event);  // after the record roles

  void summarize_by_process() {
    std::string_view name = get(K::processname);
    if (name.empty()) name = get(K::process);
    if (!name.empty()) {
      summary.append(" by ");
      summary.append(name);
    }
  }
  void summarize_capitalized(std::string_view word) {
    if (word.empty()) return;
    char c = word[0];
    summary.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
    summary.append(word.substr(1));
  }

  // The record types that say what happened, whether or not the syscall that caused it is in
  // the event too.
  void describe_config_change(std::string_view& category) {
    category = "config_change";
    std::string_view op = get(K::operation);
    if (is(op, "add_rule"))
      summary.append("Audit rule added");
    else if (is(op, "remove_rule"))
      summary.append("Audit rule removed");
    else
      summary.append("Audit configuration changed");
    summarize_by_process();
    if (has(K::rulekey)) {
      summary.append(": key ");
      summary.append(get(K::rulekey));
    } else if (!op.empty() && !is(op, "add_rule") && !is(op, "remove_rule")) {
      summary.append(": ");
      summary.append(op);
    }
    if (has(K::rulelist)) {
      summary.append(" list ");
      summary.append(get(K::rulelist));
    }
  }
  void describe_netfilter_change(std::string_view& category) {
    category = "netfilter_cfg";
    summary.append("Netfilter table ");
    summary.append(has(K::nftable) ? get(K::nftable) : std::string_view("?"));
    summary.append(" changed");
    if (has(K::operation)) {
      summary.append(" (");
      summary.append(get(K::operation));
      summary.push_back(')');
    }
    summarize_by_process();
  }
  void describe_login(std::string_view& category) {
    category = "login";
    summary.append("Login: session ");
    summary.append(get(K::session));
    summary.append(" for ");
    summary.append(has(K::originaluser) ? get(K::originaluser) : get(K::originaluid));
    summarize_by_process();
  }
  void describe_promiscuous(std::string_view& category) {
    category = "promiscuous";
    summary.append("Promisc: Interface ");
    summary.append(get(K::dev));
    summary.append(" set promiscuous ");
    summary.append(has(K::promiscuous) && get(K::promiscuous) != "0" ? "on" : "off");
    summarize_by_process();
  }

  // A syscall event: audisp-json's category of the syscall (or "syscall"), and a summary that
  // names the command, path or address it acted on.
  // The category the syscall's name alone gives (empty: the name itself), remembered for the
  // last name: a busy host repeats a few syscalls, and the name tests cost more than the rest
  // of describing the event.
  std::string categorized_syscall;
  std::string_view categorized_as;
  bool categorized = false;
  std::string_view category_of_name() {
    if (categorized && syscall == categorized_syscall) return categorized_as;
    std::string_view category =
        syscall.empty() ? std::string_view("syscall") : syscall_category(syscall);
    // A name libaudit gave is lower case letters, digits and '_'; anything else (a number
    // unknown for the arch, a malformed value) is no category.
    if (syscall.empty() ||
        syscall.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
            std::string_view::npos ||
        syscall.find_first_not_of("0123456789") == std::string_view::npos)
      category = "syscall";
    categorized_syscall.assign(syscall);
    categorized_as = category;  // a literal, never a view of the name
    categorized = true;
    return category;
  }
  std::string_view syscall_event_category() {
    std::string_view category = category_of_name();
    if (category.empty()) category = syscall;
    // audisp-json called every open "read"; an open that may write is a write.
    if (is(category, "read") && (is(syscall, "open") || is(syscall, "openat"))) {
      std::string_view flags = get(is(syscall, "open") ? K::a1 : K::a2);
      std::uint32_t value = 0;
      constexpr std::uint32_t kMayWrite = 03 | 0100 | 01000;  // O_WRONLY|O_RDWR|O_CREAT|O_TRUNC
      if (correlate::parse_hex_u32(flags, value) && (value & kMayWrite) != 0) category = "write";
    }
    return category;
  }
  void describe_syscall(std::string_view& category) {
    category = syscall_event_category();
    const std::string_view path = get(K::path);
    if (is(category, "execve")) {
      summary.append("Execve: ");
      summary.append(has(K::command) ? get(K::command) : path);
    } else if (is(category, "write") || is(category, "read") || is(category, "attribute") ||
               is(category, "chmod") || is(category, "chown")) {
      summarize_capitalized(category);
      if (path.empty()) {
        summary.append(" by ");
        summary.append(get(K::processname));
      } else {
        summary.append(": ");
        summary.append(path);
      }
    } else if (is(category, "ptrace")) {
      summary.append("Ptrace");
    } else if (is(category, "time")) {
      summary.append("time has been modified");
    } else if (is(category, "specialfiles")) {
      summary.append("special file has been created");
    } else if (is(category, "socket")) {
      summary.append("Socket");
    } else if (is(category, "listen")) {
      summary.append("Listen");
    } else {
      if (is(category, "syscall")) {
        summary.append("Syscall ");
        summary.append(syscall);
      } else {
        summarize_capitalized(syscall);
      }
      if (!path.empty()) {
        summary.append(": ");
        summary.append(path);
      } else if (has(K::address)) {
        summary.append(": ");
        summarize_address();
      } else {
        summary.append(" by ");
        summary.append(get(K::processname));
      }
    }
  }
  // "127.0.0.1:443", "[::1]:443", "/run/socket"; other families say theirs ("netlink:0").
  void summarize_address() {
    std::string_view family = get(K::family);
    if (!is(family, "inet") && !is(family, "inet6") && !is(family, "unix")) {
      summary.append(family);
      summary.push_back(':');
    }
    bool v6 = is(family, "inet6") && has(K::port);
    if (v6) summary.push_back('[');
    summary.append(get(K::address));
    if (v6) summary.push_back(']');
    if (has(K::port)) {
      summary.push_back(':');
      summary.append(get(K::port));
    }
  }
  // Any other event: the lower-case type name of its first record, and "<TYPE>: op=... res=...".
  void describe_by_type(std::uint32_t type, std::string_view& category) {
    category = lower_type_name(type, type_name);
    std::string_view name = correlate::record_type_name(type);
    if (name.empty()) name = category;
    summary.append(name);
    summary.push_back(':');
    if (outline.first_record == EventOutline::kNone) return;
    for (std::string_view k :
         {"op", "acct", "id", "cmd", "auid", "comm", "exe", "dev", "key", "res"}) {
      const Field* f = find(outline.first_record, k);
      if (f == nullptr) continue;
      summary.push_back(' ');
      summary.append(k);
      summary.push_back('=');
      summary.append(field_text(*f, decoded));
    }
  }

  // The string scratch buffers, and the bytes the execve arguments and the type list hold.
  std::array<std::string*, 6> scratch_strings() {
    return {&arena, &text, &decoded, &sanitized, &summary, &truncation};
  }
  std::size_t argument_bytes() const {
    std::size_t bytes = 0;
    for (std::size_t a = 0; a < execve.used; ++a) bytes += execve.argv[a].capacity();
    return bytes;
  }

  std::size_t type_list_bytes() const {
    return type_list.capacity() + listed_types.capacity() * sizeof(std::uint32_t);
  }

  // Bytes of scratch held between documents.
  std::size_t scratch_bytes() {
    std::size_t bytes = stream.cap + argument_bytes() + type_list_bytes();
    for (const std::string* scratch : scratch_strings()) bytes += scratch->capacity();
    return bytes;
  }

  // Gives back scratch over `kept_bytes` that large events (a 100 KB EXECVE) grew, so the
  // encoder keeps only what ordinary documents need.
  void give_back_large_buffers(std::size_t kept_bytes) {
    if (stream.cap > kept_bytes) stream.release();
    for (std::string* scratch : scratch_strings())
      if (scratch->capacity() > kept_bytes) std::string().swap(*scratch);
    if (argument_bytes() > kept_bytes || execve.argv.size() > kept_bytes / 64) {
      std::vector<std::string>().swap(execve.argv);
      std::vector<std::uint8_t>().swap(execve.filled);
      execve.clear();
    }
    if (type_list_bytes() > kept_bytes) {
      std::string().swap(type_list);  // with the types it lists: the list is made again
      std::vector<std::uint32_t>().swap(listed_types);
    }
  }

  // --- the document ---

  void write_document(const correlate::Event& event) {
    stream.begin();
    need_comma = false;
    open('{');
    write_header(event.key());
    write_key("details");
    open('{');
    take_event_identity(event);
    write_details();
    close('}');
    close('}');
  }

  // category, summary, severity, hostname, processid, processname, timestamp, tags.
  void write_header(const correlate::EventKey& key) {
    member("category", category);
    member("summary", summary);
    write_constant(severity_member, [&] { member("severity", config.severity); });
    if (key.node.empty())
      write_constant(hostname_member, [&] { member("hostname", config.hostname); });
    else
      member("hostname", key.node);
    if (!config.shipper_name.empty()) {
      write_constant(shipper_members, [&] {
        member("processid", own_pid);
        member("processname", config.shipper_name);
      });
    } else {  // the audited program at the top level
      member("processid", has(K::pid) ? get(K::pid) : std::string_view(own_pid));
      member("processname",
             has(K::processname) ? get(K::processname) : std::string_view("aurelay"));
    }
    member("timestamp", timestamp_of(key.sec, key.msec));
    write_constant(tags_member, [&] {
      write_key("tags");
      open('[');
      for (const std::string& tag : tags) string(tag, "tags");
      close(']');
    });
  }

  // The ISO-8601 time of sec.msec, made once per second: within the second only the three
  // millisecond digits change (append_timestamp's layout is fixed: they follow the 20 bytes of
  // "YYYY-MM-DDTHH:MM:SS.").
  std::uint64_t timestamp_sec = 0;
  std::string timestamp;
  std::string_view timestamp_of(std::uint64_t sec, std::uint32_t msec) {
    constexpr std::size_t kMillisecondsAt = 20;
    if (timestamp.empty() || sec != timestamp_sec) {
      timestamp.clear();
      append_timestamp(timestamp, sec, 0);
      timestamp_sec = sec;
    }
    timestamp[kMillisecondsAt] = static_cast<char>('0' + msec / 100 % 10);
    timestamp[kMillisecondsAt + 1] = static_cast<char>('0' + msec / 10 % 10);
    timestamp[kMillisecondsAt + 2] = static_cast<char>('0' + msec % 10);
    return timestamp;
  }

  // auditserial, eventid, recordtypes, completion, continuation: the event's, not its records'.
  void take_event_identity(const correlate::Event& event) {
    const correlate::EventKey& key = event.key();
    // eventid is [node:]sec.msec:serial; auditserial is its last part.
    text.clear();
    if (!key.node.empty()) {
      text.append(key.node);
      text.push_back(':');
    }
    append_number(text, key.sec);
    const char ms[5] = {'.', static_cast<char>('0' + key.msec / 100 % 10),
                        static_cast<char>('0' + key.msec / 10 % 10),
                        static_cast<char>('0' + key.msec % 10), ':'};
    text.append(ms, 5);
    const std::size_t serial_at = text.size();
    append_number(text, key.serial);
    set(K::eventid, text, 0, "serial");
    set(K::auditserial, std::string_view(text).substr(serial_at), 0, "serial");
    set_lasting(K::recordtypes, record_type_list(event), 0, "type");
    set_lasting(K::completion, to_string(event.completion()), 0, "completion");
    if (event.is_continuation()) {
      set_lasting(K::continuation, "true", 0, "continuation");
      increment(stats->continuation_documents);
    }
  }
  // The event's record types, comma separated; remembered for the last sequence of types (a
  // busy host repeats a few shapes of event).
  std::vector<std::uint32_t> listed_types;
  std::string type_list;
  std::string_view record_type_list(const correlate::Event& event) {
    const std::size_t count = event.record_count();
    bool same = listed_types.size() == count;
    for (std::size_t i = 0; same && i < count; ++i) same = listed_types[i] == event.record_type(i);
    if (same) return type_list;
    listed_types.clear();
    type_list.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t type = event.record_type(i);
      listed_types.push_back(type);
      if (i > 0) type_list.push_back(',');
      std::string_view name = correlate::record_type_name(type);
      if (name.empty()) {
        type_list.append("UNKNOWN[");
        append_number(type_list, type);
        type_list.push_back(']');
      } else {
        type_list.append(name);
      }
    }
    return type_list;
  }

  // A details member that is a list, a boolean, or a string that needs escaping, repair or a
  // cut (plain_detail_member writes the others).
  [[gnu::noinline]] void write_detail_member(const DetailKeySpec& spec, std::size_t i) {
    const auto key = static_cast<DetailKey>(i);
    write_detail_key(i);
    if (spec.shape == DetailShape::array) {
      const std::vector<ValueRef>& list = key == K::paths       ? paths
                                          : key == K::nametypes ? nametypes
                                                                : extra;
      open('[');
      for (ValueRef ref : list) string(view(ref), spec.name);
      close(']');
    } else if (spec.shape == DetailShape::boolean) {
      literal(view(values[i]));
    } else {
      string(view(values[i]), spec.name);
    }
  }
  void write_details() {
    // The lists are members too: mark them, then walk the keys that have a value, in order.
    if (!paths.empty()) present.set(static_cast<std::size_t>(K::paths));
    if (!nametypes.empty()) present.set(static_cast<std::size_t>(K::nametypes));
    if (!extra.empty()) present.set(static_cast<std::size_t>(K::extra));
    const std::span<const DetailKeySpec> specs = detail_keys();
    present.for_each([&](std::size_t i) {
      const DetailKeySpec& spec = specs[i];
      const bool text = spec.shape == DetailShape::string || spec.shape == DetailShape::ip;
      if (text && plain_detail_member(i, view(values[i]))) return;
      write_detail_member(spec, i);
    });
    if (truncation_count > 0) {
      write_detail_key(static_cast<std::size_t>(K::truncated));
      open('[');
      std::string_view rest = truncation;
      while (!rest.empty()) {
        std::size_t end = rest.find('\0');
        string(rest.substr(0, end), "truncated");
        rest.remove_prefix(end + 1);
      }
      close(']');
    }
  }
};

namespace {

using State = MozdefEncoder::State;

// Every record type the encoder gives a meaning of its own, and what a record of it contributes
// to the document. A type not listed here gives its fields to the keys of common_field; any
// field without a key goes to `extra` as TYPE.field=value.
//   fields:   the keys its own fields feed (nullptr: common_field)
//   take:     how its record reaches the details (nullptr: take_fields, field by field)
//   describe: the document's category and summary when it is the event's first record
//   accounts: it changes the user or group database (the uid/gid name cache is refreshed)
struct RecordRole {
  std::uint32_t type;
  FieldTarget (*fields)(std::string_view field);
  void (State::*take)(std::size_t record);
  void (State::*describe)(std::string_view& category);
  bool accounts;
};

constexpr RecordRole kRecordRoles[] = {
    // The syscall: its values come first and win (collect_details takes it before the others).
    {AUDIT_SYSCALL, syscall_field, &State::take_fields_with_arch, nullptr, false},
    // Joined arguments of all EXECVE records, once, after the SYSCALL: take_execve_arguments.
    {AUDIT_EXECVE, nullptr, &State::take_nothing, nullptr, false},
    {AUDIT_CWD, nullptr, &State::take_cwd, nullptr, false},
    {AUDIT_PATH, nullptr, &State::take_path, nullptr, false},
    {AUDIT_SOCKADDR, nullptr, &State::take_sockaddr, nullptr, false},
    {AUDIT_PROCTITLE, nullptr, &State::take_proctitle, nullptr, false},
    {AUDIT_EOE, nullptr, &State::take_nothing, nullptr, false},
    {AUDIT_SECCOMP, seccomp_field, &State::take_fields_with_arch, nullptr, false},
    {AUDIT_OBJ_PID, target_process_field, nullptr, nullptr, false},
    {AUDIT_ANOM_ABEND, abend_field, nullptr, nullptr, false},
    {AUDIT_ANOM_PROMISCUOUS, promiscuous_field, nullptr, &State::describe_promiscuous, false},
    {AUDIT_CONFIG_CHANGE, config_change_field, nullptr, &State::describe_config_change, false},
    {AUDIT_NETFILTER_CFG, netfilter_field, nullptr, &State::describe_netfilter_change, false},
    {AUDIT_LOGIN, login_field, nullptr, &State::describe_login, false},
    {AUDIT_USER_CMD, user_command_field, nullptr, nullptr, false},
    {AUDIT_USER_MGMT, nullptr, nullptr, nullptr, true},
    {AUDIT_ADD_USER, nullptr, nullptr, nullptr, true},
    {AUDIT_DEL_USER, nullptr, nullptr, nullptr, true},
    {AUDIT_ADD_GROUP, nullptr, nullptr, nullptr, true},
    {AUDIT_DEL_GROUP, nullptr, nullptr, nullptr, true},
    {AUDIT_GRP_MGMT, nullptr, nullptr, nullptr, true},
};

// Record type -> 1 + its row in kRecordRoles (0: none), for the types below kRoleIndexSize.
constexpr std::size_t kRoleIndexSize = 2000;
static_assert(std::ranges::all_of(kRecordRoles, [](const RecordRole& role) {
  return role.type < kRoleIndexSize;
}));
constexpr auto kRoleIndex = [] {
  std::array<std::uint8_t, kRoleIndexSize> index{};
  for (std::size_t row = 0; row < std::size(kRecordRoles); ++row)
    index[kRecordRoles[row].type] = static_cast<std::uint8_t>(row + 1);
  return index;
}();

const RecordRole* role_of(std::uint32_t type) {
  if (type >= kRoleIndexSize || kRoleIndex[type] == 0) return nullptr;
  return &kRecordRoles[kRoleIndex[type] - 1];
}

FieldTarget (*field_map_of(std::uint32_t type))(std::string_view) {
  const RecordRole* role = role_of(type);
  return role != nullptr && role->fields != nullptr ? role->fields : common_field;
}

}  // namespace

bool MozdefEncoder::State::changes_accounts(std::uint32_t type) {
  const RecordRole* role = role_of(type);
  return role != nullptr && role->accounts;
}

// The SYSCALL record first (its values win), then the EXECVE arguments, then every other record
// in order, each as its role says.
void MozdefEncoder::State::collect_details(const correlate::Event& event) {
  if (outline.changes_accounts) ids.invalidate_if_changed();
  arena.clear();
  event_text = {};
  if (event.record_count() > 0) {
    const std::string_view first = event.record_body(0);
    const std::string_view last = event.record_body(event.record_count() - 1);
    event_text = std::string_view(
        first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data()));
  }
  present.reset();
  paths.clear();
  nametypes.clear();
  extra.clear();
  truncation.clear();
  truncation_count = 0;
  if (outline.syscall_record != EventOutline::kNone) take_fields_with_arch(outline.syscall_record);
  syscall.assign(get(K::syscall));  // a copy: the arena grows below
  if (outline.has_execve) take_execve_arguments(event);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i == outline.syscall_record) continue;
    const RecordRole* role = role_of(records[i].type);
    if (role != nullptr && role->take != nullptr)
      (this->*role->take)(i);
    else
      take_fields(i);
  }
  take_parent();
}

// What happened: the first record's own description (CONFIG_CHANGE, LOGIN, ...), else a
// promiscuous mode change anywhere in the event, else the syscall's, else the first record's type.
void MozdefEncoder::State::describe(const correlate::Event& event) {
  summary.clear();
  std::uint32_t first_type = 0;
  if (outline.first_record != EventOutline::kNone)
    first_type = event.record_type(outline.first_record);
  else if (event.record_count() > 0)
    first_type = event.record_type(0);
  std::string_view described;
  const RecordRole* first = role_of(first_type);
  if (first != nullptr && first->describe != nullptr)
    (this->*first->describe)(described);
  else if (event.find(AUDIT_ANOM_PROMISCUOUS) < event.record_count())
    describe_promiscuous(described);
  else if (outline.syscall_record != EventOutline::kNone)
    describe_syscall(described);
  else
    describe_by_type(first_type, described);
  category.assign(described);  // it may view the arena, which grows below
}

MozdefEncoder::MozdefEncoder(EncoderConfig config, EncoderStats* stats,
                             correlate::ProcessTableStats* process_table_stats)
    : state_(std::make_unique<State>(std::move(config), stats, process_table_stats)) {}
MozdefEncoder::~MozdefEncoder() = default;

const EncoderStats& MozdefEncoder::stats() const { return *state_->stats; }

const correlate::ProcessTableStats& MozdefEncoder::process_table_stats() const {
  return state_->processes.stats();
}

void MozdefEncoder::encode(const correlate::Event& event, DocumentBatch& batch) {
  State& s = *state_;
  s.outline_records(event);
  s.collect_details(event);
  s.describe(event);
  s.write_document(event);
  batch.buffer().append(s.stream.data, s.stream.len);
  batch.end_document(event.key().sec * 1000 + event.key().msec);
  increment(s.stats->documents_encoded);
  // During a burst the scratch a large event grew is kept for the next one (giving it back
  // after each would map and unmap it per event); only a pathological event's is let go at
  // once. What remains goes back when the input is quiet (release_idle_memory).
  s.give_back_large_buffers(kScratchKeptWhileBusyBytes);
}

std::size_t MozdefEncoder::scratch_bytes() const { return state_->scratch_bytes(); }

void MozdefEncoder::release_idle_memory() {
  state_->give_back_large_buffers(kScratchKeptIdleBytes);
}

}  // namespace aurelay::output
