// A bounded table of processes built from the audit stream itself, so an event can name its
// parent process (`details.parentprocess`): audisp-json read /proc/<ppid> at encode time, which
// gives nothing once the parent has exited and another host's answer in a replay.
//
// What feeds it: every SYSCALL record names the process (pid, ppid, comm, exe) as it was when the
// syscall exited. For a successful execve that is already the new image (the kernel logs the
// record at syscall exit, after the exec replaced comm and exe), so a child's execve event shows
// the child's new name, and the parent's entry is whatever the parent's own last audited
// syscall showed.
//
// Entries: one per pid, in fixed slots (comm inline, exe kept as a 64-bit hash), at most
// `capacity` of them; beyond it the least recently seen entry is evicted. Both observe() and a
// name_of() hit count as "seen". Every operation is O(1) and allocates nothing once constructed.
// Memory: 56 bytes a slot plus 8 bytes of index per slot (16384 entries: about 1 MiB).
//
// Replacement: a record that shows a known pid with another ppid, comm or exe replaces its entry
// (counted in replaced()): that is how pid reuse, an execve (new image) and a rename
// (PR_SET_NAME) show up. An entry that came from /proc (ppid and exe unknown) is refreshed
// silently by the first record of its pid, and counted as replaced only when the comm differs.
//
// What a stale entry can still yield (the table only knows what was audited):
//  - the parent exec'd a new image, or renamed itself, without an audited syscall since: the
//    name it had before (e.g. the shell's name, not the program it became);
//  - the parent's pid was reused by a process that has made no audited syscall yet: the previous
//    owner's name (the next record of the new owner replaces it);
//  - the parent exited after the child's syscall but before the event is encoded: its last known
//    name, which is right, and which a /proc read could never give.
// A parent that exited *before* the child's syscall is not named by the record at all: the kernel
// has already reparented the child, so the record's ppid is the reaper (init or a subreaper).
//
// /proc fallback (live only, never in a replay where /proc belongs to another host): a pid the
// stream has not shown is looked up in <proc_root>/<pid>/comm with one open and one read of at
// most 64 bytes (procfs reads do not wait on I/O), and the answer is kept in the table so later
// lookups hit. It races with the process: a parent that already exited gives nothing (the
// lookup fails and the key is left out), and if its pid was reused meanwhile it gives the new
// owner's name. A zombie (exited, not yet reaped) still answers with its name. Failures are not
// cached: a later lookup of the same pid reads /proc again. /proc must be the initial pid
// namespace's (the kernel reports pids there), which the collector needs anyway.
//
// Start times (live, from the reader's process contexts, see process_context.h): an entry keeps
// the start time of its process when the record that fed it carried one, and a lookup may name
// the parent the reader found in /proc (its start time and name, read as the child's record was
// read). When both start times are known and differ, the entry belongs to another owner of the
// pid (reused since): the reader's sighting replaces it (counted in parent_reused).
//
// Not thread-safe: owned by the correlator thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/stats.h"
#include "correlate/pid_lru.h"

namespace aurelay::correlate {

// Default of process_table_size (the option table formats this same constant).
inline constexpr std::size_t kDefaultProcessTableSize = 16384;

struct ProcessTableConfig {
  std::size_t capacity =
      kDefaultProcessTableSize;     // entries (at least 1); least recently seen evicted beyond it
  bool proc_fallback = false;       // live only: read <proc_root>/<pid>/comm for unknown pids
  std::string proc_root = "/proc";  // injectable for tests
};

// Every lookup of a pid other than 0 is either known (a hit) or unknown (the table had no entry).
// Of the unknown, `parent_sighted` were named by the reader's sighting, `parent_proc_reads` went
// to /proc (fallback on) and proc_failures() of those gave no name, so the names found are
// parent_known + parent_sighted + parent_proc_reads - proc_failures(). The encoder looks up only
// parents, hence the names.
// clang-format off
#define AURELAY_PROCESS_TABLE_STATS(COUNTER, GAUGE)                                              \
  COUNTER(parent_known, "parent process known", "Events whose parent was in the process table") \
  COUNTER(parent_unknown, "parent process unknown", "Events whose parent was unknown")         \
  COUNTER(parent_sighted, "parent process sighted", "Events whose parent was named by the reader's /proc lookup") \
  COUNTER(parent_reused, "parent pid reused", "Events whose parent pid had another owner in the process table (start times differ)") \
  COUNTER(parent_proc_reads, "parent process /proc reads", "Reads of /proc/PPID/comm for parents not yet seen") \
  COUNTER(process_table_evictions, "process table evictions", "Process table entries evicted")
// clang-format on

struct ProcessTableStats {
  AURELAY_STATS_MEMBERS(AURELAY_PROCESS_TABLE_STATS)
};

// The parent as the reader found it in /proc when it read the child's record; 0 / empty unknown.
struct ParentSighting {
  std::uint64_t start_ticks = 0;
  std::string_view comm;
};

class ProcessTable {
 public:
  // TASK_COMM_LEN is 16 with the NUL: a kernel comm has at most 15 bytes. Longer input (a replay
  // of something else) is cut at kMaxCommBytes.
  static constexpr std::size_t kMaxCommBytes = 16;
  static constexpr std::size_t kMaxProcReadBytes = 64;

  // Counts into `stats` when given (the daemon's Metrics), otherwise into its own.
  explicit ProcessTable(ProcessTableConfig config, ProcessTableStats* stats = nullptr);

  // Records what a SYSCALL record shows: pid, ppid, comm (decoded bytes), exe (decoded bytes;
  // only its hash is kept) and the process's start time when known (0 unknown). pid 0 is
  // ignored.
  void observe(std::uint32_t pid, std::uint32_t ppid, std::string_view comm, std::string_view exe,
               std::uint64_t start_ticks = 0);

  // The name (comm) of `pid` as last seen; else the reader's sighting of it; else from /proc when
  // proc_fallback is on and the stream has not shown it; empty when unknown (and always for pid
  // 0, which is no process and is not counted). The view points into the table: use it before
  // the next observe() or name_of().
  std::string_view name_of(std::uint32_t pid, const ParentSighting& sighting = {});

  const ProcessTableStats& stats() const { return *stats_; }
  // /proc reads that gave no name (no such process, empty, error).
  std::uint64_t proc_failures() const { return proc_failures_; }
  // Entries whose pid showed another ppid, comm or exe.
  std::uint64_t replaced() const { return replaced_; }
  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return entries_.capacity(); }

 private:
  struct Entry {
    std::uint32_t ppid = 0;
    std::uint64_t exe_hash = 0;
    std::uint64_t start_ticks = 0;  // 0 unknown
    std::uint8_t comm_size = 0;
    bool from_proc = false;  // ppid and exe unknown
    char comm[kMaxCommBytes] = {};

    std::string_view name() const { return {comm, comm_size}; }
    void set_name(std::string_view name);
  };

  Entry& insert(std::uint32_t pid);
  bool read_proc_comm(std::uint32_t pid, char* out, std::size_t& size);

  ProcessTableConfig config_;
  StatsStorage<ProcessTableStats> stats_;
  std::uint64_t proc_failures_ = 0;
  std::uint64_t replaced_ = 0;
  PidLru<Entry> entries_;
  std::string proc_path_;  // "<proc_root>/" kept, the rest rewritten per read (no allocation)
  std::size_t proc_prefix_size_ = 0;
};

}  // namespace aurelay::correlate
