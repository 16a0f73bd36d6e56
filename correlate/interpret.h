// Field interpretation: syscall numbers to names per architecture, uid/gid to names, and the
// hex-encoded values of PROCTITLE, PATH name= and SOCKADDR saddr=. Single-threaded: each
// correlator owns its own caches (the encoder holds them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/stats.h"
#include "correlate/record.h"

namespace aurelay::correlate {

// AUDIT_ARCH_* values as the SYSCALL record's `arch=` writes them (hex).
inline constexpr std::uint32_t kArchX86_64 = 0xc000003e;
inline constexpr std::uint32_t kArchI386 = 0x40000003;
inline constexpr std::uint32_t kArchAarch64 = 0xc00000b7;

// Parses an unsigned number written in hex (`arch=c000003e`); false when it is not one.
bool parse_hex_u32(std::string_view text, std::uint32_t& out);
// Parses an unsigned decimal number; false when it is not one (or overflows 64 bits).
bool parse_decimal_u64(std::string_view text, std::uint64_t& out);

// Syscall number -> name for each architecture, from libaudit's tables. The table of an
// architecture is built on its first use (one libaudit call per number up to kMaxSyscall);
// afterwards a lookup is an index into a vector. Names view libaudit's static strings.
class SyscallNames {
 public:
  static constexpr int kMaxSyscall = 1024;

  // Counts lookups that found no name into `unknown` when given (the encoder's statistics).
  explicit SyscallNames(Counter* unknown = nullptr) : unknown_(unknown) {}

  // Name of syscall `number` on the architecture `arch` (AUDIT_ARCH_* value); empty when
  // libaudit does not know the architecture or the number.
  std::string_view name(std::uint32_t arch, std::uint64_t number);
  // Same, from the record's texts (`arch=c000003e`, `syscall=59`); empty when they do not parse.
  std::string_view name(std::string_view arch_hex, std::string_view number);
  // Short machine name of an architecture ("x86_64", "i386", "aarch64"); empty when unknown.
  std::string_view arch_name(std::uint32_t arch);

  std::uint64_t unknown() const { return value_of(*unknown_); }  // lookups that found no name

 private:
  struct Table {
    std::uint32_t arch = 0;
    int machine = -1;  // libaudit machine, -1 when libaudit does not know the arch
    std::string_view machine_name;
    std::vector<std::string_view> names;  // by syscall number; empty view = unknown
  };
  Table& table(std::uint32_t arch);

  std::vector<Table> tables_;  // a handful of architectures at most
  std::size_t last_ = 0;       // index of the last table used (events come in runs)
  StatsStorage<Counter> unknown_;
};

// uid/gid -> name through a bounded cache in front of getpwuid_r/getgrgid_r.
// - 4294967295 (the unset id, (uid_t)-1) -> "unset";
// - an id the system does not know -> the number as written (the negative answer is cached);
// - a text that is not a number -> returned unchanged.
// When the cache holds `capacity` entries and a new id comes, it is emptied first (user
// databases are small; this only bounds memory against hostile id churn). invalidate() empties
// it. The encoder calls invalidate_if_changed() on user/group management events (ADD_USER,
// DEL_GROUP, ...): the cache is emptied only when the account files changed since it was last
// emptied, so renamed or new accounts show their new names while a replay of old logs full of
// such events does not pay a name-service lookup per event.
// Returned views stay valid until the next call on this object.
class IdNames {
 public:
  static std::vector<std::string> default_account_files() { return {"/etc/passwd", "/etc/group"}; }

  // Counts system lookups into `lookups` when given (the encoder's statistics).
  explicit IdNames(std::size_t capacity = 4096,
                   std::vector<std::string> account_files = default_account_files(),
                   Counter* lookups = nullptr);

  std::string_view user(std::string_view uid_text);
  std::string_view group(std::string_view gid_text);
  void invalidate();
  // Empties the cache when an account file's size, inode or modification time changed since the
  // cache was last emptied (or created). Returns whether it did.
  bool invalidate_if_changed();

  std::uint64_t lookups() const { return value_of(*lookups_); }  // system lookups (cache misses)
  std::uint64_t evictions() const { return evictions_; }

 private:
  std::string_view resolve(std::unordered_map<std::uint32_t, std::string>& cache, bool is_user,
                           std::string_view text);

  std::string account_files_fingerprint() const;

  std::size_t capacity_;
  std::vector<std::string> account_files_;
  std::string fingerprint_;  // of account_files_ when the cache was last emptied
  std::unordered_map<std::uint32_t, std::string> users_;
  std::unordered_map<std::uint32_t, std::string> groups_;
  std::vector<char> buffer_;  // getpwuid_r/getgrgid_r scratch
  StatsStorage<Counter> lookups_;
  std::uint64_t evictions_ = 0;
};

// The text of a value that may be hex-encoded (an unquoted value of a field the kernel encodes
// when it holds special characters: PATH name=, CWD cwd=, comm=, exe=, ...). Quoted values and
// the markers `(null)`/`?` are returned as they are; an unquoted even-length hex run is decoded
// into `scratch` and the result views it; anything else is returned as it is.
std::string_view decode_maybe_hex(const Field& field, std::string& scratch);

// PROCTITLE: hex of the NUL-separated argv (or a quoted plain string). Appends the arguments
// joined by single spaces (trailing NULs dropped) to `out`. Returns false (appending the raw
// value) when an unquoted value is not hex.
bool decode_proctitle(const Field& field, std::string& out);

// A decoded SOCKADDR saddr=.
struct SocketAddress {
  std::string family;    // "inet", "inet6", "unix", "netlink", or the family number
  std::string address;   // dotted quad, RFC 5952 IPv6, unix path ("@name" when abstract),
                         // netlink port id (nl_pid); empty when the value is too short or
                         // the unix socket is unnamed
  std::string port;      // inet/inet6 port; empty for the other families
  bool decoded = false;  // false when the family is not one of the above (address/port empty)
  void clear() {
    family.clear(), address.clear(), port.clear();
    decoded = false;
  }
};

// Decodes the hex of `saddr=`. Returns false (out cleared) when the value is not hex or shorter
// than the 2-byte family.
bool decode_sockaddr(std::string_view hex, SocketAddress& out);

}  // namespace aurelay::correlate
