// Which record field feeds which details key, as one compile-time table (kFieldRows): the
// encoder looks fields up in maps built from it, and docs/mozdef-fields.md's `from` column is
// rendered from it (render_field_reference), so the two cannot disagree. A new details key is
// a row of AURELAY_DETAIL_KEYS (mozdef/details.h), a row here, and tools/generate_docs.sh.
#pragma once

#include <libaudit.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "mozdef/details.h"

namespace aurelay::mozdef {

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
  // Read by the code of its record type (the encoder's take_* of EXECVE, SOCKADDR, PROCTITLE):
  joined_arguments,  // EXECVE a0..aN joined by spaces (and their count, complete or not)
  socket_address,    // SOCKADDR saddr decoded into family, address, port and the peer's
  proctitle,         // PROCTITLE argv, NUL-separated hex, joined by spaces
};

// A record field that has a key: `record_type` kAnyRecord means every record type that has no
// row of its own for the field (but the types of kOwnRowsOnly).
struct FieldRow {
  std::uint32_t record_type;
  std::string_view field;
  DetailKey key;
  Transform transform;
};

inline constexpr std::uint32_t kAnyRecord = 0;

// clang-format off
inline constexpr FieldRow kFieldRows[] = {
    // The syscall record: its values come first and win over later records'.
    {AUDIT_SYSCALL, "arch", DetailKey::arch, Transform::arch_name},
    {AUDIT_SYSCALL, "syscall", DetailKey::syscall, Transform::syscall_name},
    {AUDIT_SYSCALL, "success", DetailKey::success, Transform::boolean},
    {AUDIT_SYSCALL, "exit", DetailKey::exit, Transform::plain},
    {AUDIT_SYSCALL, "a0", DetailKey::a0, Transform::plain},
    {AUDIT_SYSCALL, "a1", DetailKey::a1, Transform::plain},
    {AUDIT_SYSCALL, "a2", DetailKey::a2, Transform::plain},
    {AUDIT_SYSCALL, "a3", DetailKey::a3, Transform::plain},
    {AUDIT_SYSCALL, "items", DetailKey::items, Transform::plain},
    {AUDIT_SYSCALL, "per", DetailKey::personality, Transform::plain},
    // Fields that mean the same in every record that has them.
    {kAnyRecord, "pid", DetailKey::pid, Transform::plain},
    {kAnyRecord, "ppid", DetailKey::ppid, Transform::plain},
    {kAnyRecord, "auid", DetailKey::originaluid, Transform::with_user},
    {kAnyRecord, "uid", DetailKey::uid, Transform::with_user},
    {kAnyRecord, "gid", DetailKey::gid, Transform::with_group},
    {kAnyRecord, "euid", DetailKey::euid, Transform::plain},
    {kAnyRecord, "suid", DetailKey::suid, Transform::plain},
    {kAnyRecord, "fsuid", DetailKey::fsuid, Transform::plain},
    {kAnyRecord, "egid", DetailKey::egid, Transform::plain},
    {kAnyRecord, "sgid", DetailKey::sgid, Transform::plain},
    {kAnyRecord, "fsgid", DetailKey::fsgid, Transform::plain},
    {kAnyRecord, "tty", DetailKey::tty, Transform::plain},
    {kAnyRecord, "ses", DetailKey::session, Transform::plain},
    {kAnyRecord, "comm", DetailKey::processname, Transform::decoded},
    {kAnyRecord, "exe", DetailKey::process, Transform::decoded},
    {kAnyRecord, "subj", DetailKey::subject, Transform::plain},
    {kAnyRecord, "key", DetailKey::auditkey, Transform::decoded},
    {kAnyRecord, "res", DetailKey::success, Transform::boolean},
    {kAnyRecord, "addr", DetailKey::sourceipaddress, Transform::ip_address},
    {kAnyRecord, "rport", DetailKey::sourceport, Transform::plain},
    {kAnyRecord, "op", DetailKey::operation, Transform::plain},
    {kAnyRecord, "acct", DetailKey::username, Transform::decoded},
    {kAnyRecord, "id", DetailKey::accountid, Transform::plain},
    {kAnyRecord, "hostname", DetailKey::remotehostname, Transform::plain},
    {kAnyRecord, "terminal", DetailKey::terminal, Transform::plain},
    {kAnyRecord, "grantors", DetailKey::grantors, Transform::plain},
    {kAnyRecord, "unit", DetailKey::unit, Transform::plain},
    // The records of a syscall event.
    {AUDIT_EXECVE, "a0..aN", DetailKey::command, Transform::joined_arguments},
    {AUDIT_EXECVE, "argc", DetailKey::argc, Transform::joined_arguments},
    {AUDIT_EXECVE, "argc", DetailKey::argcomplete, Transform::joined_arguments},
    {AUDIT_PROCTITLE, "proctitle", DetailKey::proctitle, Transform::proctitle},
    {AUDIT_CWD, "cwd", DetailKey::cwd, Transform::decoded},
    // The path the syscall acted on: the first PATH record that is not a PARENT.
    {AUDIT_PATH, "name", DetailKey::path, Transform::decoded},
    {AUDIT_PATH, "nametype", DetailKey::nametype, Transform::plain},
    {AUDIT_PATH, "inode", DetailKey::inode, Transform::plain},
    {AUDIT_PATH, "dev", DetailKey::dev, Transform::plain},
    {AUDIT_PATH, "mode", DetailKey::mode, Transform::plain},
    {AUDIT_PATH, "ouid", DetailKey::ouid, Transform::plain},
    {AUDIT_PATH, "ogid", DetailKey::ogid, Transform::plain},
    {AUDIT_PATH, "rdev", DetailKey::rdev, Transform::plain},
    {AUDIT_SOCKADDR, "saddr", DetailKey::family, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::address, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::port, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::saddr, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::destinationipaddress, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::destinationport, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::sourceipaddress, Transform::socket_address},
    {AUDIT_SOCKADDR, "saddr", DetailKey::sourceport, Transform::socket_address},
    // Records with fields of their own.
    {AUDIT_SECCOMP, "arch", DetailKey::arch, Transform::arch_name},
    {AUDIT_SECCOMP, "syscall", DetailKey::syscall, Transform::syscall_name},
    {AUDIT_SECCOMP, "code", DetailKey::seccompaction, Transform::plain},
    {AUDIT_SECCOMP, "sig", DetailKey::signal, Transform::plain},
    {AUDIT_ANOM_ABEND, "sig", DetailKey::signal, Transform::plain},
    {AUDIT_ANOM_PROMISCUOUS, "dev", DetailKey::dev, Transform::decoded},
    {AUDIT_ANOM_PROMISCUOUS, "prom", DetailKey::promiscuous, Transform::plain},
    {AUDIT_ANOM_PROMISCUOUS, "old_prom", DetailKey::oldpromiscuous, Transform::plain},
    {AUDIT_CONFIG_CHANGE, "list", DetailKey::rulelist, Transform::plain},
    {AUDIT_CONFIG_CHANGE, "key", DetailKey::rulekey, Transform::decoded},
    {AUDIT_LOGIN, "old-auid", DetailKey::oldoriginaluid, Transform::plain},
    {AUDIT_LOGIN, "old-ses", DetailKey::oldsession, Transform::plain},
    {AUDIT_NETFILTER_CFG, "table", DetailKey::nftable, Transform::plain},
    {AUDIT_NETFILTER_CFG, "entries", DetailKey::nfentries, Transform::plain},
    {AUDIT_NETFILTER_CFG, "family", DetailKey::nffamily, Transform::plain},
    // Its oauid, ouid, oses describe the target, not the actor: no kAnyRecord rows (kOwnRowsOnly).
    {AUDIT_OBJ_PID, "opid", DetailKey::targetpid, Transform::plain},
    {AUDIT_OBJ_PID, "ocomm", DetailKey::targetprocessname, Transform::decoded},
    {AUDIT_USER_CMD, "cmd", DetailKey::command, Transform::decoded},
    {AUDIT_USER_CMD, "cwd", DetailKey::cwd, Transform::decoded},
};
// clang-format on

// Record types whose fields take only their own rows (no kAnyRecord ones).
inline constexpr std::uint32_t kOwnRowsOnly[] = {AUDIT_OBJ_PID, AUDIT_PATH, AUDIT_CWD,
                                                 AUDIT_PROCTITLE};

// Whether kFieldRows has the row {record_type, field, key}: the code that reads a record itself
// (EXECVE, SOCKADDR) checks with it that each key it sets is listed, so the docs name it.
constexpr bool has_row(std::uint32_t record_type, std::string_view field, DetailKey key) {
  return std::ranges::any_of(kFieldRows, [&](const FieldRow& row) {
    return row.record_type == record_type && row.field == field && row.key == key;
  });
}

// Called only when a FieldMap cannot be built: not constexpr, so the build fails there.
inline void field_map_cannot_be_built(const char* /*reason*/) {}

// The key and transform of a field (key DetailKey::count: none, the field goes to `extra`).
struct FieldTarget {
  DetailKey key = DetailKey::count;
  Transform transform = Transform::plain;
};

// A field name as one word, unique among names of the same length up to 8 bytes: the first and
// last four bytes overlapping (4 to 8 bytes), or the first, middle and last byte (1 to 3).
constexpr std::uint64_t field_signature(std::string_view name) {
  const std::size_t size = name.size();
  auto byte = [&](std::size_t i) -> std::uint64_t { return static_cast<unsigned char>(name[i]); };
  if (size >= 4) {
    auto word32 = [&](std::size_t at) -> std::uint64_t {
      if (std::is_constant_evaluated())
        return byte(at) | byte(at + 1) << 8 | byte(at + 2) << 16 | byte(at + 3) << 24;
      std::uint32_t word;
      std::memcpy(&word, name.data() + at, sizeof word);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap32(word);
      return word;
    };
    return word32(0) | word32(size - 4) << 32;
  }
  if (size == 0) return 0;
  return byte(0) | byte(size / 2) << 8 | byte(size - 1) << 16;
}

// The fields of one record type with keys, as a perfect hash: every field of the map has a slot
// of its own, so a lookup reads one slot and compares one entry.
class FieldMap {
 public:
  static constexpr std::size_t kSlotBits = 8;
  static constexpr std::size_t kMaxEntries = 64;

  [[gnu::always_inline]] FieldTarget find(std::string_view field) const {
    const std::uint64_t signature = field_signature(field);
    const std::uint8_t slot = slots_[slot_of(signature, field.size(), multiplier_)];
    if (slot == 0) return {};
    const Entry& entry = entries_[slot - 1];
    if (entry.signature != signature || entry.size != field.size()) return {};
    if (field.size() > 8 && kFieldRows[entry.row].field != field) return {};
    return {entry.key, entry.transform};
  }

  // The map of `record_type`: its own rows, then the kAnyRecord rows for the fields it has no
  // row of its own for (unless it is one of kOwnRowsOnly). Rows read by a record's own code
  // (joined_arguments, socket_address) are left out: no field lookup finds them.
  static consteval FieldMap of(std::uint32_t record_type) {
    FieldMap map;
    const bool own_only = std::ranges::find(kOwnRowsOnly, record_type) != std::end(kOwnRowsOnly);
    for (std::size_t pass = 0; pass < 2; ++pass) {
      for (std::size_t row = 0; row < std::size(kFieldRows); ++row) {
        const FieldRow& r = kFieldRows[row];
        if (r.transform == Transform::joined_arguments || r.transform == Transform::socket_address)
          continue;
        const bool own = r.record_type == record_type && record_type != kAnyRecord;
        const bool common = r.record_type == kAnyRecord && !own_only &&
                            (record_type == kAnyRecord || !map.has_own(r.field, record_type));
        if ((pass == 0 && own) || (pass == 1 && common)) map.add(row);
      }
    }
    map.place();
    return map;
  }

 private:
  struct Entry {
    std::uint64_t signature = 0;
    std::uint8_t size = 0;
    DetailKey key = DetailKey::count;
    Transform transform = Transform::plain;
    std::uint8_t row = 0;  // in kFieldRows
  };

  static constexpr std::size_t slot_of(std::uint64_t signature, std::size_t size,
                                       std::uint64_t multiplier) {
    return static_cast<std::size_t>(((signature ^ size) * multiplier) >> (64 - kSlotBits));
  }

  constexpr bool has_own(std::string_view field, std::uint32_t record_type) const {
    for (std::size_t i = 0; i < count_; ++i)
      if (kFieldRows[entries_[i].row].record_type == record_type &&
          kFieldRows[entries_[i].row].field == field)
        return true;
    return false;
  }

  constexpr void add(std::size_t row) {
    const FieldRow& r = kFieldRows[row];
    if (count_ == kMaxEntries || r.field.size() > 255 || row > 255)
      field_map_cannot_be_built("more entries than kMaxEntries");
    for (std::size_t i = 0; i < count_; ++i)
      if (kFieldRows[entries_[i].row].field == r.field)
        field_map_cannot_be_built("a field has two rows for one record type");
    entries_[count_++] = Entry{field_signature(r.field), static_cast<std::uint8_t>(r.field.size()),
                               r.key, r.transform, static_cast<std::uint8_t>(row)};
  }

  // Finds a multiplier that gives every entry a slot of its own.
  constexpr void place() {
    std::uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (int attempt = 0; attempt < 4096; ++attempt) {
      seed += 0x9E3779B97F4A7C15ull;  // splitmix64
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      const std::uint64_t multiplier = (z ^ (z >> 31)) | 1;
      std::array<std::uint8_t, std::size_t{1} << kSlotBits> slots{};
      bool perfect = true;
      for (std::size_t i = 0; i < count_ && perfect; ++i) {
        const std::size_t slot = slot_of(entries_[i].signature, entries_[i].size, multiplier);
        if (slots[slot] != 0) perfect = false;
        slots[slot] = static_cast<std::uint8_t>(i + 1);
      }
      if (perfect) {
        slots_ = slots;
        multiplier_ = multiplier;
        return;
      }
    }
    field_map_cannot_be_built("no multiplier gives every field a slot of its own");
  }

  std::uint64_t multiplier_ = 1;
  std::array<std::uint8_t, std::size_t{1} << kSlotBits> slots_{};  // 1 + entry index, 0: none
  std::array<Entry, kMaxEntries> entries_{};
  std::size_t count_ = 0;
};

// docs/mozdef-fields.md's `from` column of `key`: the rows that feed it ("SYSCALL arch", "uid",
// "name of uid" for the name a with_user row puts in the next key), then the key's `source`.
std::string field_sources(DetailKey key);

}  // namespace aurelay::mozdef
