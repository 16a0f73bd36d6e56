// Which container and systemd unit ran a process, and when it started: looked up in /proc by the
// reader thread as it reads each SYSCALL record (live inputs only: a replay's /proc belongs to
// another host and time), before a short-lived process is gone. The context travels with the
// record (RecordBatch, then the Event) to the encoder: details.containerid, details.systemdunit,
// details.processstarttime; the parent's start time lets the process table tell a reused parent
// pid from the parent itself.
//
// Per record (pid, ppid and the event time T from the record itself):
//  - a table entry for the pid is used when it still describes the process of the record (never
//    for an execve's record: systemd and container runtimes move a child to its cgroup between
//    fork and exec, so an exec is when the new cgroup shows): the
//    entry's process started no later than T, and it was seen in /proc after T or less than
//    kTrustWindow before it. Pids are handed out in turn over the whole pid range, so a pid seen
//    a moment ago cannot yet belong to another process;
//  - otherwise /proc/PID is read: cgroup, then stat (start time, name, state). A process that
//    started after T is another owner of the pid (reused): treated as gone; one that started
//    before held the pid when cgroup was read too (a pid is not reused while its process lives);
//  - a process gone (exited, reaped, pid reused) inherits the container and unit of its parent
//    (from the table, or /proc/PPID), which is where a short-lived process ran unless it moved
//    itself; its own start time is then unknown (no processstarttime).
// The parent's entry follows the same rules, and when the process's start is known, it must have
// been seen in /proc after that start (then it held the pid while the process lived, so it is the
// parent); its start time and name go with the context.
//
// Container ids: the last path component that is 64 hex digits, alone or as
// docker-, cri-containerd-, crio- or libpod-<id>[.scope] (docker's cgroupfs and systemd forms,
// containerd/CRI, cri-o, podman; a runtime's monitor, e.g. libpod-conmon-<id>.scope, is not the
// container). Unit: the innermost component ending in .service or .scope. Paths from cgroup v2's
// `0::` line, else from cgroup v1's name=systemd hierarchy.
//
// Bounded: at most `capacity` processes (least recently used evicted) and kMaxCgroups distinct
// cgroups (all forgotten at once beyond it). Not thread-safe: owned by the reader thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/stats.h"
#include "base/unique_fd.h"
#include "correlate/interpret.h"
#include "correlate/pid_lru.h"
#include "correlate/process_table.h"

namespace aurelay::correlate {

class RecordBatch;

// What the encoder gets with a SYSCALL record. Fixed size: batches and events keep it inline.
struct ProcessContext {
  static constexpr std::size_t kContainerIdBytes = 64;
  static constexpr std::size_t kMaxUnitBytes = 255;  // systemd's UNIT_NAME_MAX without the NUL
  static constexpr std::size_t kMaxCommBytes = 16;

  std::uint64_t start_ticks = 0;         // since boot, in clock ticks; 0 unknown
  std::uint64_t start_ms = 0;            // since the epoch (UTC); 0 unknown
  std::uint64_t parent_start_ticks = 0;  // 0 unknown
  std::uint8_t container_id_size = 0;    // 0 or kContainerIdBytes
  std::uint8_t parent_comm_size = 0;
  std::uint16_t unit_size = 0;
  bool inherited = false;  // the process was gone: container and unit are its parent's
  char container_id[kContainerIdBytes] = {};
  char parent_comm[kMaxCommBytes] = {};
  char unit[kMaxUnitBytes] = {};

  std::string_view container() const { return {container_id, container_id_size}; }
  std::string_view systemd_unit() const { return {unit, unit_size}; }
  std::string_view parent_name() const { return {parent_comm, parent_comm_size}; }
  bool empty() const { return start_ticks == 0 && container_id_size == 0 && unit_size == 0; }
};

// The container id and unit a cgroup path or a /proc/PID/cgroup text names (views into it).
struct CgroupIdentity {
  std::string_view container_id;
  std::string_view unit;
};
CgroupIdentity identify_cgroup_path(std::string_view path);
CgroupIdentity identify_proc_cgroup(std::string_view proc_cgroup_text);

// clang-format off
#define AURELAY_PROCESS_CONTEXT_STATS(COUNTER, GAUGE)                                                       \
  COUNTER(process_context_hits, "process context hits", "SYSCALL records whose process context was known without reading /proc") \
  COUNTER(process_context_proc_reads, "process context /proc reads", "Processes looked up in /proc (stat and cgroup), not counting those kill(pid, 0) found gone")            \
  COUNTER(process_context_inherited, "process context inherited", "SYSCALL records whose process was gone: context taken from its parent") \
  COUNTER(process_context_unknown, "process context unknown", "SYSCALL records whose process and parent were both unknown")      \
  COUNTER(process_context_evictions, "process context evictions", "Process context entries evicted") \
  COUNTER(process_context_pidfd_checks, "process context pidfd checks", "Parents seen before their child started found still running by their pidfd, without a /proc read")
// clang-format on

struct ProcessContextStats {
  AURELAY_STATS_MEMBERS(AURELAY_PROCESS_CONTEXT_STATS)
};

struct ProcessContextConfig {
  std::size_t capacity = 16384;        // processes (the process table's bound)
  std::string proc_root = "/proc";     // injectable for tests
  std::uint64_t boot_time_ms = 0;      // 0: from the clocks (CLOCK_REALTIME - CLOCK_BOOTTIME)
  std::uint64_t ticks_per_second = 0;  // 0: sysconf(_SC_CLK_TCK)
};

class ProcessContexts {
 public:
  static constexpr std::chrono::milliseconds kTrustWindow{1000};
  static constexpr std::size_t kMaxCgroups = 4096;
  // Parents whose pidfd is kept (one descriptor each), least recently checked dropped first.
  static constexpr std::size_t kMaxWatchedParents = 64;
  // Pids found gone that the table did not know, the latest kept: their other records of the
  // moment read /proc no more, and a storm of short-lived processes evicts nothing from the table.
  static constexpr std::size_t kRecentlyGone = 64;

  explicit ProcessContexts(ProcessContextConfig config, ProcessContextStats* stats = nullptr);

  // Attaches a context to every SYSCALL record of `batch` (netlink records or auditd log lines)
  // whose process or parent could be found. `now_ms`: the wall clock, ms since the epoch.
  void annotate(RecordBatch& batch, std::uint64_t now_ms);

  // The context of `pid` (child of `ppid`) for a record of time `event_ms`; false when neither
  // the process nor its parent could be found. `exec`: the record is an execve's, whose process
  // is read again (it may have moved itself to another cgroup between fork and exec).
  bool lookup(std::uint32_t pid, std::uint32_t ppid, std::uint64_t event_ms, std::uint64_t now_ms,
              ProcessContext& out, bool exec = false);

  const ProcessContextStats& stats() const { return *stats_; }
  std::size_t size() const { return processes_.size(); }

 private:
  static constexpr std::uint32_t kNoCgroup = UINT32_MAX;
  static constexpr std::uint64_t kReadAgain = UINT64_MAX;  // seen_since_ms: read it all again

  struct Entry {
    std::uint64_t start_ticks = 0;  // 0: unknown (gone when first looked up)
    std::uint64_t seen_ms = 0;      // wall clock of the /proc read
    std::uint32_t cgroup = kNoCgroup;
    std::uint32_t cgroup_generation = 0;
    std::uint8_t comm_size = 0;
    char comm[ProcessContext::kMaxCommBytes] = {};
  };
  struct Cgroup {
    std::string container_id;
    std::string unit;
  };
  // A parent's pidfd, opened before a /proc read that showed it with `start_ticks`: while the
  // pidfd is not readable the process has not exited, so it still holds its pid.
  struct Watch {
    UniqueFd pidfd;
    std::uint64_t start_ticks = 0;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  // The entry of `pid` if it still describes the process of a record of time `event_ms`, else
  // a fresh read of /proc (nullptr when the process is gone).
  // `seen_since_ms`: the entry must have been seen in /proc no earlier (a parent must have been
  // seen after its child started, or it may be an earlier owner of its pid).
  const Entry* current(std::uint32_t pid, std::uint64_t event_ms, std::uint64_t now_ms,
                       std::uint64_t seen_since_ms, bool& was_hit);
  // The slot of `pid` among the pids found gone, or kRecentlyGone.
  std::size_t recently_gone(std::uint32_t pid) const;
  // Whether `entry` (of `pid`, seen before a child of time `event_ms` started) still describes
  // the process holding `pid`: by its pidfd when one is kept, else by its start time in /proc
  // (and a pidfd kept from then on).
  bool still_owner(std::uint32_t pid, std::uint64_t event_ms, const Entry& entry);
  // /proc/PID/stat, and /proc/PID/cgroup `with_cgroup`; false when the process is gone (or
  // started after `event_ms`: another owner of the pid).
  bool read_proc(std::uint32_t pid, std::uint64_t event_ms, Entry& out, bool with_cgroup);
  // <proc_root>/<pid>/`name` (path_ holds the directory) into `out`.
  bool read_file(std::string_view name, std::string& out);
  std::uint32_t intern_cgroup(std::string_view proc_cgroup_text);
  const Cgroup* cgroup_of(const Entry& entry) const;
  std::uint64_t start_ms_of(std::uint64_t ticks) const;

  ProcessContextConfig config_;
  StatsStorage<ProcessContextStats> stats_;
  PidLru<Entry> processes_;
  PidLru<Watch> watched_parents_{kMaxWatchedParents};
  // A ring of the pids last found gone (0: free) and when (wall clock).
  std::array<std::uint32_t, kRecentlyGone> gone_pids_{};
  std::array<std::uint64_t, kRecentlyGone> gone_seen_ms_{};
  std::size_t gone_next_ = 0;
  bool pidfds_ = false;    // pidfd_open works here (the real /proc, Linux 5.3 and later)
  SyscallNames syscalls_;  // tells an execve's record on every architecture libaudit knows
  std::vector<Cgroup> cgroups_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> cgroup_index_;
  std::uint32_t cgroup_generation_ = 1;
  std::string path_;  // "<proc_root>/" kept, the pid rewritten per read
  std::size_t path_prefix_size_ = 0;
  bool probe_with_signal_ = false;
  std::string stat_text_;
  std::string cgroup_text_;
  std::string cgroup_key_;
};

}  // namespace aurelay::correlate
