#include "output/mozdef_encoder.h"

#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "correlate/execve.h"
#include "correlate/interpret.h"
#include "correlate/record.h"

namespace aurelay::output {

namespace {

using correlate::Field;
using correlate::ValueForm;

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
      return key == "vm" || key == "sw";
    case 3:
      return key == "cwd" || key == "exe" || key == "key" || key == "cmd" || key == "dir" ||
             key == "grp";
    case 4:
      return key == "name" || key == "comm" || key == "acct" || key == "data" || key == "path";
    case 5:
      return key == "ocomm" || key == "watch";
    case 6:
      return key == "cgroup";
    case 8:
      return key == "root_dir";
    case 9:
      return key == "new_group" || key == "old_group" || key == "proctitle" || key == "new-group" ||
             key == "old-group";
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
    scratch.append(buf, end);
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
  out.append(buf, p);
}

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// audisp-json's categories by syscall name (it matched name prefixes; the lists here name the
// syscalls those prefixes meant, plus the obvious siblings it missed).
std::string_view syscall_category(std::string_view name) {
  auto starts = [&](std::string_view prefix) { return name.starts_with(prefix); };
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names)
      if (n == name) return true;
    return false;
  };
  if (starts("execve")) return "execve";
  if (starts("write") || starts("pwrite") || starts("unlink") || starts("rename") ||
      is({"truncate", "ftruncate", "creat"}))
    return "write";
  if (starts("read") || starts("pread") || starts("open") || starts("link") || starts("mmap") ||
      starts("sendfile"))
    return "read";
  if (is({"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
          "setxattrat", "removexattrat"}))
    return "attribute";
  if (is({"chmod", "fchmod", "fchmodat", "fchmodat2"})) return "chmod";
  if (starts("chown") || starts("fchown") || starts("lchown")) return "chown";
  if (name == "ptrace") return "ptrace";
  if (is({"adjtimex", "settimeofday", "clock_settime", "clock_adjtime", "stime"})) return "time";
  if (starts("mknod")) return "specialfiles";
  if (is({"socket", "socketpair"})) return "socket";
  if (name == "listen") return "listen";
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

// Copies `value` to `out` (room for value.size() bytes) and finds on the way whether it has
// bytes JSON must escape (< 0x20, '"', '\\') or non-ASCII bytes: eight bytes at a time (values
// are mostly clean ASCII), the last word overlapping the one before; values under eight bytes
// go through a table.
void copy_scanning(std::string_view value, char* out, bool& escape, bool& non_ascii) {
  const std::size_t size = value.size();
  const char* in = value.data();
  if (size < 8) {
    unsigned classes = 0;
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = in[i];
      classes |= kByteClass.of[static_cast<unsigned char>(in[i])];
    }
    escape = (classes & 1) != 0;
    non_ascii = (classes & 2) != 0;
    return;
  }
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  std::uint64_t special = 0, high = 0;
  auto word = [&](std::size_t i) {
    std::uint64_t x;
    std::memcpy(&x, in + i, 8);
    std::memcpy(out + i, &x, 8);
    high |= x & kHighs;
    // bytes < 0x20 (only meaningful for ASCII bytes; high bytes are caught above)
    special |= (x - kOnes * 0x20) & ~x & kHighs;
    special |= has_zero(x ^ (kOnes * '"')) | has_zero(x ^ (kOnes * '\\'));
  };
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) word(i);
  if (i < size) word(size - 8);
  escape = special != 0;
  non_ascii = high != 0;
}

struct RecordFields {
  std::uint32_t type;
  std::uint32_t begin;
  std::uint32_t end;
};

}  // namespace

struct MozdefEncoder::State {
  EncoderConfig config;
  EncoderCounters counters;
  std::vector<std::string> tags;
  std::string own_pid;

  correlate::SyscallNames syscalls;
  correlate::IdNames ids;
  correlate::ExecveArguments execve;
  correlate::SocketAddress sockaddr;

  std::vector<Field> fields;
  std::vector<RecordFields> records;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> type_counts;  // (type, seen)

  std::string command;
  std::string proctitle;
  std::string summary;
  std::string text;       // general scratch (ids, timestamps, keys)
  std::string key;        // key scratch
  std::string decoded;    // hex decoding scratch
  std::string decoded2;   // second hex decoding scratch
  std::string sanitized;  // invalid UTF-8 repair scratch
  std::string type_name;
  std::string_view current_syscall;  // name of the main SYSCALL record's syscall, if known

  // The document's structure (objects, keys, the tags array) is written directly: a comma
  // before every member or element but the first of its container. RapidJSON's writer only
  // escapes the strings that need escaping (as a root value of its own, after a Reset).
  BufferStream stream;
  JsonWriter escaper;
  bool need_comma = false;
  int depth = 0;  // open objects and arrays; 0 when the document is complete

  explicit State(EncoderConfig c) : config(std::move(c)), ids(config.id_cache_size) {
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
    append_number(own_pid, static_cast<std::uint64_t>(getpid()));
  }

  // --- JSON helpers ---

  // A JSON string literal (quotes included) of `value`.
  void string_text(std::string_view value) {
    // Optimistic: copy the bytes behind an opening quote while scanning them; a clean value
    // (the common case) is then done. Otherwise the copy is overwritten below.
    bool escape = false, non_ascii = false;
    stream.ensure(value.size() + 2);
    copy_scanning(value, stream.data + stream.len + 1, escape, non_ascii);
    if (!escape && !non_ascii) {
      stream.data[stream.len] = '"';
      stream.data[stream.len + 1 + value.size()] = '"';
      stream.len += value.size() + 2;
      return;
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
        ++counters.invalid_utf8_fixed;
        value = sanitized;
      }
    }
    if (escape) {
      escaper.Reset(stream);
      escaper.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
      return;
    }
    // Nothing to escape: copy the bytes at once.
    stream.ensure(value.size() + 2);
    stream.put_unchecked('"');
    stream.append_unchecked(value.data(), value.size());
    stream.put_unchecked('"');
  }
  void separator() {
    if (need_comma) stream.Put(',');
  }
  // A string as a value (an array element or after a key).
  void string(std::string_view value) {
    separator();
    string_text(value);
    need_comma = true;
  }
  void key_(std::string_view k) {
    // Keys come from records too: same treatment as values.
    separator();
    string_text(k);
    stream.Put(':');
    need_comma = false;
  }
  void member(std::string_view k, std::string_view v) {
    key_(k);
    string(v);
  }
  void open(char bracket) {  // '{' or '['
    separator();
    stream.Put(bracket);
    need_comma = false;
    ++depth;
  }
  void close(char bracket) {  // '}' or ']'
    stream.Put(bracket);
    need_comma = true;
    --depth;
  }

  // --- record helpers ---

  std::span<const Field> record_fields(std::size_t r) const {
    return std::span<const Field>(fields.data() + records[r].begin,
                                  records[r].end - records[r].begin);
  }
  const Field* find(std::size_t r, std::string_view k) const {
    for (const Field& f : record_fields(r))
      if (f.key == k) return &f;
    return nullptr;
  }
  std::string_view value_of(std::size_t r, std::string_view k, std::string& scratch) const {
    const Field* f = find(r, k);
    if (f == nullptr) return {};
    return field_text(*f, scratch);
  }
  static std::string_view field_text(const Field& f, std::string& scratch) {
    if (f.form == ValueForm::bare && is_encoded_key(f.key))
      return correlate::decode_maybe_hex(f, scratch);
    return f.value;
  }

  // A SYSCALL record or the first record of a non-syscall event: fields with audisp-json names.
  void write_main_fields(std::size_t r) {
    for (const Field& f : record_fields(r)) {
      std::string_view k = f.key;
      if (k == "msg" && f.form == ValueForm::single_quoted) continue;  // its fields follow
      if (records[r].type == correlate::kTypeSyscall && k == "arch") {
        std::uint32_t arch = 0;
        std::string_view name;
        if (correlate::parse_hex_u32(f.value, arch)) name = syscalls.arch_name(arch);
        member("arch", name.empty() ? f.value : name);
      } else if (records[r].type == correlate::kTypeSyscall && k == "syscall") {
        member("syscall", current_syscall.empty() ? f.value : current_syscall);
      } else if (k == "auid") {
        member("originaluid", f.value);
        member("originaluser", ids.user(f.value));
      } else if (k == "uid") {
        member("uid", f.value);
        member("user", ids.user(f.value));
      } else if (k == "gid") {
        member("gid", f.value);
        member("group", ids.group(f.value));
      } else if (k == "ses") {
        member("session", f.value);
      } else if (k == "comm") {
        member("processname", field_text(f, decoded));
      } else if (k == "exe") {
        member("process", field_text(f, decoded));
      } else if (k == "key") {
        member("auditkey", field_text(f, decoded));
      } else {
        member(k, field_text(f, decoded));
      }
    }
  }

  // Fields of any other record: "<type>_<key>" / "<type><k>_<key>".
  void write_prefixed_fields(std::size_t r) {
    std::uint32_t type = records[r].type;
    std::uint32_t seen = 0;
    bool counted = false;
    for (auto& [t, count] : type_counts) {
      if (t == type) {
        seen = count++;
        counted = true;
        break;
      }
    }
    if (!counted) type_counts.emplace_back(type, 1);
    lower_type_name(type, type_name);
    key.assign(type_name);
    if (seen > 0) append_number(key, seen);
    key.push_back('_');
    std::size_t prefix_size = key.size();
    for (const Field& f : record_fields(r)) {
      if (f.key == "msg" && f.form == ValueForm::single_quoted) continue;
      key.resize(prefix_size);
      key.append(f.key);
      member(key, field_text(f, decoded));
    }
  }

  void write_path_fields(std::size_t r, std::string_view suffix) {
    for (const Field& f : record_fields(r)) {
      if (f.key == "item" && !suffix.empty()) continue;
      key.assign(f.key == "name" ? std::string_view("path") : f.key);
      key.append(suffix);
      member(key, field_text(f, decoded));
    }
  }

  std::string_view syscall_name(std::size_t r) {
    const Field* arch = find(r, "arch");
    const Field* number = find(r, "syscall");
    if (arch == nullptr || number == nullptr) return {};
    return syscalls.name(arch->value, number->value);
  }
};

MozdefEncoder::MozdefEncoder(EncoderConfig config)
    : state_(std::make_unique<State>(std::move(config))) {}
MozdefEncoder::~MozdefEncoder() = default;

const EncoderCounters& MozdefEncoder::counters() const {
  state_->counters.unknown_syscalls = state_->syscalls.unknown();
  state_->counters.id_lookups = state_->ids.lookups();
  return state_->counters;
}

bool MozdefEncoder::encode(const correlate::Event& event, DocumentBatch& batch) {
  State& s = *state_;
  using namespace correlate;

  // --- split every record once ---
  s.fields.clear();
  s.records.clear();
  s.type_counts.clear();
  std::size_t syscall_record = SIZE_MAX, path_chosen = SIZE_MAX, sockaddr_record = SIZE_MAX;
  std::size_t promisc_record = SIZE_MAX, cwd_record = SIZE_MAX, proctitle_record = SIZE_MAX;
  std::size_t first_record = SIZE_MAX, execve_record = SIZE_MAX;
  std::size_t path_count = 0;
  bool user_management = false;
  for (std::size_t i = 0; i < event.record_count(); ++i) {
    std::uint32_t type = event.record_type(i);
    auto begin = static_cast<std::uint32_t>(s.fields.size());
    split_fields(event.record_body(i), s.fields);
    s.records.push_back(RecordFields{type, begin, static_cast<std::uint32_t>(s.fields.size())});
    if (type != kTypeEoe && first_record == SIZE_MAX) first_record = i;
    switch (type) {
      case kTypeSyscall:
        if (syscall_record == SIZE_MAX) syscall_record = i;
        break;
      case kTypeExecve:
        if (execve_record == SIZE_MAX) execve_record = i;
        break;
      case kTypeCwd:
        if (cwd_record == SIZE_MAX) cwd_record = i;
        break;
      case kTypeSockaddr:
        if (sockaddr_record == SIZE_MAX) sockaddr_record = i;
        break;
      case kTypeProctitle:
        if (proctitle_record == SIZE_MAX) proctitle_record = i;
        break;
      case kTypePath:
        ++path_count;
        break;
      case 1700:  // ANOM_PROMISCUOUS
        if (promisc_record == SIZE_MAX) promisc_record = i;
        break;
      case 1102:  // USER_MGMT
      case 1114:  // ADD_USER
      case 1115:  // DEL_USER
      case 1116:  // ADD_GROUP
      case 1117:  // DEL_GROUP
      case 1132:  // GRP_MGMT
        user_management = true;
        break;
      default:
        break;
    }
  }
  for (std::size_t i = 0; i < s.records.size(); ++i) {
    if (s.records[i].type != kTypePath) continue;
    if (path_chosen == SIZE_MAX) path_chosen = i;
    const Field* nametype = s.find(i, "nametype");
    if (nametype == nullptr || nametype->value != "PARENT") {
      path_chosen = i;
      break;
    }
  }

  // --- interpreted pieces ---
  std::string_view sys_name;
  if (syscall_record != SIZE_MAX) sys_name = s.syscall_name(syscall_record);
  s.current_syscall = sys_name;
  bool have_execve = execve_record != SIZE_MAX && reassemble_execve(event, s.execve);
  s.command.clear();
  if (have_execve) {
    for (std::size_t a = 0; a < s.execve.used; ++a) {
      if (a > 0) s.command.push_back(' ');
      s.command.append(s.execve.argv[a]);
    }
  }
  std::string path_scratch;  // small; a path name rarely exceeds SSO when hex decoded
  std::string_view path;
  if (path_chosen != SIZE_MAX) path = s.value_of(path_chosen, "name", s.decoded2);
  bool have_sockaddr = false;
  if (sockaddr_record != SIZE_MAX) {
    const Field* saddr = s.find(sockaddr_record, "saddr");
    have_sockaddr = saddr != nullptr && decode_sockaddr(saddr->value, s.sockaddr);
  }
  std::size_t main_record = syscall_record != SIZE_MAX ? syscall_record : first_record;
  if (main_record != SIZE_MAX && main_record != syscall_record) {
    switch (event.record_type(main_record)) {  // records with their own rules below
      case kTypePath:
      case kTypeCwd:
      case kTypeExecve:
      case kTypeSockaddr:
      case kTypeProctitle:
        main_record = SIZE_MAX;
        break;
      default:
        break;
    }
  }

  // --- category and summary ---
  std::string_view category;
  s.summary.clear();
  auto capitalized = [&](std::string_view word) {
    if (word.empty()) return;
    char c = word[0];
    s.summary.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
    s.summary.append(word.substr(1));
  };
  if (promisc_record != SIZE_MAX) {
    category = "promiscuous";
    s.summary.append("Promisc: Interface ");
    s.summary.append(s.value_of(promisc_record, "dev", path_scratch));
    const Field* prom = s.find(promisc_record, "prom");
    s.summary.append(" set promiscuous ");
    s.summary.append(prom != nullptr && prom->value != "0" ? "on" : "off");
  } else if (syscall_record != SIZE_MAX) {
    category = sys_name.empty() ? std::string_view("syscall") : syscall_category(sys_name);
    if (category.empty()) category = sys_name;
    // audisp-json called every open "read"; an open that may write is a write.
    if (category == "read" && (sys_name == "open" || sys_name == "openat")) {
      const Field* flags = s.find(syscall_record, sys_name == "open" ? "a1" : "a2");
      std::uint32_t value = 0;
      constexpr std::uint32_t kMayWrite = 03 | 0100 | 01000;  // O_WRONLY|O_RDWR|O_CREAT|O_TRUNC
      if (flags != nullptr && parse_hex_u32(flags->value, value) && (value & kMayWrite) != 0)
        category = "write";
    }
    if (category == "execve") {
      s.summary.append("Execve: ");
      if (have_execve)
        s.summary.append(s.command);
      else
        s.summary.append(path);
    } else if (category == "write" || category == "read" || category == "attribute" ||
               category == "chmod" || category == "chown") {
      capitalized(category);
      if (path.empty()) {
        s.summary.append(" by ");
        s.summary.append(s.value_of(syscall_record, "comm", path_scratch));
      } else {
        s.summary.append(": ");
        s.summary.append(path);
      }
    } else if (category == "ptrace") {
      s.summary.append("Ptrace");
    } else if (category == "time") {
      s.summary.append("time has been modified");
    } else if (category == "specialfiles") {
      s.summary.append("special file has been created");
    } else if (category == "socket") {
      s.summary.append("Socket");
    } else if (category == "listen") {
      s.summary.append("Listen");
    } else {
      if (sys_name.empty()) {
        s.summary.append("Syscall ");
        s.summary.append(s.value_of(syscall_record, "syscall", path_scratch));
      } else {
        capitalized(sys_name);
      }
      if (!path.empty()) {
        s.summary.append(": ");
        s.summary.append(path);
      } else if (have_sockaddr && !s.sockaddr.address.empty()) {
        s.summary.append(": ");
        // Addresses other than IP and unix paths say their family ("netlink:0").
        if (s.sockaddr.family != "inet" && s.sockaddr.family != "inet6" &&
            s.sockaddr.family != "unix") {
          s.summary.append(s.sockaddr.family);
          s.summary.push_back(':');
        }
        bool v6 = s.sockaddr.family == "inet6" && !s.sockaddr.port.empty();
        if (v6) s.summary.push_back('[');
        s.summary.append(s.sockaddr.address);
        if (v6) s.summary.push_back(']');
        if (!s.sockaddr.port.empty()) {
          s.summary.push_back(':');
          s.summary.append(s.sockaddr.port);
        }
      } else {
        s.summary.append(" by ");
        s.summary.append(s.value_of(syscall_record, "comm", path_scratch));
      }
    }
  } else {
    category = lower_type_name(
        first_record == SIZE_MAX ? event.record_type(0) : event.record_type(first_record),
        s.type_name);
    std::string_view type_name = record_type_name(
        first_record == SIZE_MAX ? event.record_type(0) : event.record_type(first_record));
    if (type_name.empty()) type_name = category;
    s.summary.append(type_name);
    s.summary.push_back(':');
    if (first_record != SIZE_MAX) {
      for (std::string_view k :
           {"op", "acct", "id", "cmd", "auid", "comm", "exe", "dev", "key", "res"}) {
        const Field* f = s.find(first_record, k);
        if (f == nullptr) continue;
        s.summary.push_back(' ');
        s.summary.append(k);
        s.summary.push_back('=');
        s.summary.append(State::field_text(*f, path_scratch));
      }
    }
  }
  std::string category_copy(category);  // category may view type_name scratch

  if (user_management) s.ids.invalidate_if_changed();

  // --- the document ---
  s.stream.begin();
  s.need_comma = false;
  s.depth = 0;
  s.open('{');
  s.member("category", category_copy);
  s.member("summary", s.summary);
  s.member("severity", s.config.severity);
  const EventKey& key = event.key();
  s.member("hostname", key.node.empty() ? std::string_view(s.config.hostname) : key.node);
  {
    std::string_view pid, pname;
    if (main_record != SIZE_MAX) {
      pid = s.value_of(main_record, "pid", path_scratch);
      const Field* comm = s.find(main_record, "comm");
      if (comm == nullptr) comm = s.find(main_record, "exe");
      if (comm != nullptr) pname = State::field_text(*comm, s.decoded);
    }
    s.member("processid", pid.empty() ? std::string_view(s.own_pid) : pid);
    s.member("processname", pname.empty() ? std::string_view("aurelay") : pname);
  }
  s.text.clear();
  append_timestamp(s.text, key.sec, key.msec);
  s.member("timestamp", s.text);
  s.key_("tags");
  s.open('[');
  for (const std::string& tag : s.tags) s.string(tag);
  s.close(']');

  s.key_("details");
  s.open('{');
  s.text.clear();
  append_number(s.text, key.serial);
  s.member("auditserial", s.text);
  s.text.clear();
  if (!key.node.empty()) {
    s.text.append(key.node);
    s.text.push_back(':');
  }
  append_number(s.text, key.sec);
  s.text.push_back('.');
  {
    char ms[3] = {static_cast<char>('0' + key.msec / 100 % 10),
                  static_cast<char>('0' + key.msec / 10 % 10),
                  static_cast<char>('0' + key.msec % 10)};
    s.text.append(ms, 3);
  }
  s.text.push_back(':');
  append_number(s.text, key.serial);
  s.member("eventid", s.text);
  s.text.clear();
  for (std::size_t i = 0; i < event.record_count(); ++i) {
    if (i > 0) s.text.push_back(',');
    std::string_view name = record_type_name(event.record_type(i));
    if (name.empty()) {
      s.text.append("UNKNOWN[");
      append_number(s.text, event.record_type(i));
      s.text.push_back(']');
    } else {
      s.text.append(name);
    }
  }
  s.member("recordtypes", s.text);
  s.member("completion", to_string(event.completion()));
  if (event.is_fragment()) {
    s.member("fragment", "true");
    ++s.counters.fragments;
  }

  std::size_t path_index = 0;
  for (std::size_t i = 0; i < s.records.size(); ++i) {
    std::uint32_t type = s.records[i].type;
    if (i == main_record) {
      s.write_main_fields(i);
    } else if (type == kTypeEoe) {
      continue;
    } else if (type == kTypeExecve) {
      if (i != execve_record) continue;  // reassembled with the first one
      s.text.clear();
      append_number(s.text, s.execve.argc);
      s.member("argc", s.text);
      s.member("command", s.command);
      if (!s.execve.complete()) s.member("argcomplete", "false");
    } else if (type == kTypeCwd && i == cwd_record) {
      s.member("cwd", s.value_of(i, "cwd", s.decoded));
    } else if (type == kTypeProctitle && i == proctitle_record) {
      const Field* f = s.find(i, "proctitle");
      s.proctitle.clear();
      if (f != nullptr) decode_proctitle(*f, s.proctitle);
      s.member("proctitle", s.proctitle);
    } else if (type == kTypeSockaddr && i == sockaddr_record) {
      const Field* saddr = s.find(i, "saddr");
      if (have_sockaddr) {
        s.member("family", s.sockaddr.family);
        if (s.sockaddr.decoded) {
          if (!s.sockaddr.address.empty()) s.member("address", s.sockaddr.address);
          if (!s.sockaddr.port.empty()) s.member("port", s.sockaddr.port);
        } else {
          s.member("saddr", saddr->value);
        }
      }
      for (const Field& f : s.record_fields(i)) {  // anything else than saddr (or bad saddr)
        if (have_sockaddr && &f == saddr) continue;
        s.member(f.key, f.value);
      }
    } else if (type == kTypePath) {
      if (i == path_chosen) s.write_path_fields(i, {});
      if (path_count >= 2) {
        s.text.clear();
        append_number(s.text, path_index);
        std::string suffix = s.text;
        s.write_path_fields(i, suffix);
      }
      ++path_index;
    } else {
      s.write_prefixed_fields(i);
    }
  }
  s.close('}');
  s.close('}');

  if (s.depth != 0) {
    ++s.counters.failed;
    return false;
  }
  batch.buffer().append(s.stream.data, s.stream.len);
  batch.end_document(key.sec * 1000 + key.msec);
  ++s.counters.documents;
  return true;
}

}  // namespace aurelay::output
