#include "correlate/interpret.h"

#include <arpa/inet.h>
#include <grp.h>
#include <libaudit.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "correlate/hex.h"

namespace aurelay::correlate {

namespace {
constexpr std::uint64_t kUnsetId = 4294967295ull;
}

bool parse_hex_u32(std::string_view text, std::uint32_t& out) {
  if (text.empty() || text.size() > 8) return false;
  std::uint32_t value = 0;
  for (char c : text) {
    int digit = hex_digit_value(c);
    if (digit < 0) return false;
    value = (value << 4) | static_cast<std::uint32_t>(digit);
  }
  out = value;
  return true;
}

bool parse_decimal_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  // Up to 19 digits cannot overflow: ids and pids take this loop.
  if (text.size() <= 19) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    for (; i < text.size(); ++i) {
      const auto digit = static_cast<unsigned char>(text[i] - '0');
      if (digit > 9) break;
      value = value * 10 + digit;
    }
    if (i == text.size()) {
      out = value;
      return true;
    }
  }
  // Anything else (a non-digit, more digits) as from_chars sees it, `out` included.
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// --- SyscallNames ---

SyscallNames::Table& SyscallNames::table(std::uint32_t arch) {
  if (last_ < tables_.size() && tables_[last_].arch == arch) return tables_[last_];
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    if (tables_[i].arch == arch) {
      last_ = i;
      return tables_[i];
    }
  }
  Table built;
  built.arch = arch;
  built.machine = audit_elf_to_machine(arch);
  if (built.machine >= 0) {
    if (const char* machine_name = audit_machine_to_name(built.machine))
      built.machine_name = machine_name;
    built.names.resize(kMaxSyscall);
    for (int number = 0; number < kMaxSyscall; ++number) {
      if (const char* name = audit_syscall_to_name(number, built.machine))
        built.names[number] = name;
    }
  }
  tables_.push_back(std::move(built));
  last_ = tables_.size() - 1;
  return tables_.back();
}

std::string_view SyscallNames::name(std::uint32_t arch, std::uint64_t number) {
  const Table& t = table(arch);
  if (number < t.names.size() && !t.names[number].empty()) return t.names[number];
  increment(*unknown_);
  return {};
}

std::string_view SyscallNames::name(std::string_view arch_hex, std::string_view number) {
  std::uint32_t arch = 0;
  std::uint64_t value = 0;
  if (!parse_hex_u32(arch_hex, arch) || !parse_decimal_u64(number, value)) {
    increment(*unknown_);
    return {};
  }
  return name(arch, value);
}

std::string_view SyscallNames::arch_name(std::uint32_t arch) { return table(arch).machine_name; }

// --- IdNames ---

std::string_view IdNames::user(std::string_view uid_text) {
  return resolve(users_, true, uid_text);
}

std::string_view IdNames::group(std::string_view gid_text) {
  return resolve(groups_, false, gid_text);
}

IdNames::IdNames(std::size_t capacity, std::vector<std::string> account_files, Counter* lookups)
    : capacity_(capacity),
      account_files_(std::move(account_files)),
      fingerprint_(account_files_fingerprint()),
      lookups_(lookups) {}

void IdNames::invalidate() {
  users_.clear();
  groups_.clear();
  fingerprint_ = account_files_fingerprint();
}

bool IdNames::invalidate_if_changed() {
  std::string now = account_files_fingerprint();
  if (now == fingerprint_) return false;
  users_.clear();
  groups_.clear();
  fingerprint_ = std::move(now);
  return true;
}

std::string IdNames::account_files_fingerprint() const {
  std::string fingerprint;
  for (const std::string& file : account_files_) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
      fingerprint.append("missing;");
      continue;
    }
    fingerprint.append(std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
                       std::to_string(info.st_mtim.tv_sec) + "." +
                       std::to_string(info.st_mtim.tv_nsec) + ";");
  }
  return fingerprint;
}

std::string_view IdNames::resolve(std::unordered_map<std::uint32_t, std::string>& cache,
                                  bool is_user, std::string_view text) {
  std::uint64_t id = 0;
  if (!parse_decimal_u64(text, id) || id > kUnsetId) return text;
  if (id == kUnsetId) return "unset";
  auto key = static_cast<std::uint32_t>(id);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  if (cache.size() >= capacity_) {
    cache.clear();
    ++evictions_;
  }
  increment(*lookups_);
  if (buffer_.empty()) {
    long size = sysconf(is_user ? _SC_GETPW_R_SIZE_MAX : _SC_GETGR_R_SIZE_MAX);
    buffer_.resize(size > 0 ? static_cast<std::size_t>(size) : 16384);
  }
  std::string name;
  for (int attempt = 0; attempt < 8; ++attempt) {
    int rc = 0;
    if (is_user) {
      struct passwd entry;
      struct passwd* result = nullptr;
      rc = getpwuid_r(key, &entry, buffer_.data(), buffer_.size(), &result);
      if (rc == 0 && result != nullptr) name = entry.pw_name;
    } else {
      struct group entry;
      struct group* result = nullptr;
      rc = getgrgid_r(key, &entry, buffer_.data(), buffer_.size(), &result);
      if (rc == 0 && result != nullptr) name = entry.gr_name;
    }
    if (rc != ERANGE) break;
    buffer_.resize(buffer_.size() * 2);
  }
  // An id the system does not know is its number as the kernel writes it (no leading zeros):
  // the cache holds one answer per id, whichever way a record wrote it first.
  if (name.empty()) name = std::to_string(key);
  return cache.emplace(key, std::move(name)).first->second;
}

// --- hex values ---

std::string_view decode_maybe_hex(const Field& field, std::string& scratch) {
  if (field.form != ValueForm::bare) return field.value;
  if (field.value == "(null)" || field.value == "?") return field.value;
  if (!is_hex(field.value)) return field.value;
  scratch.clear();
  append_hex_decoded(field.value, scratch);
  return scratch;
}

bool decode_proctitle(const Field& field, std::string& out) {
  if (field.form != ValueForm::bare) {
    out.append(field.value);
    return true;
  }
  const std::size_t start = out.size();
  if (!append_hex_decoded(field.value, out)) {
    out.append(field.value);
    return false;
  }
  // Trailing NULs go; the NULs between arguments become spaces, eight bytes at a time.
  std::size_t end = out.size();
  while (end > start && out[end - 1] == '\0') --end;
  out.resize(end);
  char* p = out.data() + start;
  char* const stop = out.data() + end;
  constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;
  for (; stop - p >= 8; p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    // High bit of each byte: set for a non-zero byte (no carry crosses bytes here).
    const std::uint64_t nonzero = ((word & kLow7) + kLow7) | word;
    word |= (~nonzero & ~kLow7) >> 2;  // 0x80 >> 2 == ' ' for each zero byte
    std::memcpy(p, &word, sizeof word);
  }
  for (; p < stop; ++p) {
    if (*p == '\0') *p = ' ';
  }
  return true;
}

namespace {

std::uint16_t load_be16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
// Host order fields (family, netlink pid): the audited host is the host we run on.
std::uint16_t load_host16(const unsigned char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
std::uint32_t load_host32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

bool decode_sockaddr(std::string_view hex, SocketAddress& out) {
  out.clear();
  if (hex.size() < 4 || !is_hex(hex)) return false;
  unsigned char bytes[256];
  std::string long_bytes;  // only for saddr values over 256 bytes (never from the kernel)
  const unsigned char* p = bytes;
  std::size_t n = hex.size() / 2;
  if (n <= sizeof bytes) {
    for (std::size_t i = 0; i < n; ++i)
      bytes[i] = static_cast<unsigned char>((hex_digit_value(hex[2 * i]) << 4) |
                                            hex_digit_value(hex[2 * i + 1]));
  } else {
    append_hex_decoded(hex, long_bytes);
    p = reinterpret_cast<const unsigned char*>(long_bytes.data());
  }
  std::uint16_t family = load_host16(p);
  char text[INET6_ADDRSTRLEN];
  switch (family) {
    case AF_INET:
      out.family = "inet";
      if (n >= 8) {
        append_number(out.port, load_be16(p + 2));
        if (inet_ntop(AF_INET, p + 4, text, sizeof text)) out.address = text;
      }
      break;
    case AF_INET6:
      out.family = "inet6";
      if (n >= 24) {
        append_number(out.port, load_be16(p + 2));
        if (inet_ntop(AF_INET6, p + 8, text, sizeof text)) out.address = text;
      }
      break;
    case AF_UNIX: {
      out.family = "unix";
      if (n > 2) {
        const char* path = reinterpret_cast<const char*>(p + 2);
        std::size_t len = n - 2;
        if (path[0] == '\0') {  // abstract: every byte of addrlen counts; show trailing NULs cut
          std::size_t end = len;
          while (end > 1 && path[end - 1] == '\0') --end;
          out.address.assign("@");
          out.address.append(path + 1, end - 1);
        } else {  // a path: up to the first NUL (the kernel copies addrlen, garbage after it)
          out.address.assign(path, strnlen(path, len));
        }
      }
      break;
    }
    case AF_NETLINK:
      out.family = "netlink";
      if (n >= 8) append_number(out.address, load_host32(p + 4));
      break;
    default:
      append_number(out.family, family);
      return true;
  }
  out.decoded = true;
  return true;
}

}  // namespace aurelay::correlate
