// Process contexts (see process_context.h): /proc/PID/stat and /proc/PID/cgroup read by the
// reader thread, kept per pid, inherited from the parent when the process is gone.
#include "correlate/process_context.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "base/clocks.h"
#include "correlate/interpret.h"
#include "correlate/record.h"
#include "correlate/record_batch.h"

namespace aurelay::correlate {
namespace {

constexpr auto kTrustWindowMs = static_cast<std::uint64_t>(ProcessContexts::kTrustWindow.count());

// The kernel's clock and an event's header time may disagree by a tick (10 ms) and the
// boot-time estimate by a little more.
constexpr std::uint64_t kClockSlackMs = 20;
constexpr std::size_t kMaxPidDigits = 10;

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The container id one path component names, or empty.
std::string_view container_id_in(std::string_view component) {
  constexpr std::string_view kScope = ".scope";
  if (component.ends_with(kScope)) component.remove_suffix(kScope.size());
  if (component.size() < ProcessContext::kContainerIdBytes) return {};
  const std::string_view id =
      component.substr(component.size() - ProcessContext::kContainerIdBytes);
  if (!is_lower_hex(id)) return {};
  const std::string_view prefix = component.substr(0, component.size() - id.size());
  for (std::string_view runtime : {"", "docker-", "cri-containerd-", "crio-", "libpod-"})
    if (prefix == runtime) return id;
  return {};
}

// The text of field `key` ("ppid=") of a record body: at its start or after a space, up to the
// next space; empty when absent. A targeted scan: the reader splits no record into fields.
std::string_view field_text(std::string_view body, std::string_view key) {
  for (std::size_t at = body.find(key); at != std::string_view::npos; at = body.find(key, at + 1)) {
    if (at != 0 && body[at - 1] != ' ') continue;
    const std::string_view value = body.substr(at + key.size());
    return value.substr(0, value.find(' '));
  }
  return {};
}

template <std::size_t N>
std::uint8_t copy_into(char (&out)[N], std::string_view text) {
  const std::size_t size = std::min(text.size(), N);
  if (size != 0) std::memcpy(out, text.data(), size);
  return static_cast<std::uint8_t>(size);
}

}  // namespace

CgroupIdentity identify_cgroup_path(std::string_view path) {
  CgroupIdentity identity;
  while (!path.empty()) {
    const std::size_t slash = path.rfind('/');
    const std::string_view component =
        slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (identity.container_id.empty()) identity.container_id = container_id_in(component);
    if (identity.unit.empty() && (component.ends_with(".service") || component.ends_with(".scope")))
      identity.unit = component.substr(0, ProcessContext::kMaxUnitBytes);
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return identity;
}

CgroupIdentity identify_proc_cgroup(std::string_view text) {
  std::string_view unified;
  std::string_view named_systemd;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    // hierarchy-ID:controller-list:cgroup-path
    const std::size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    const std::size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (line.substr(0, first) == "0" && controllers.empty())
      unified = path;
    else if (controllers == "name=systemd")
      named_systemd = path;
  }
  CgroupIdentity identity = identify_cgroup_path(unified);
  if (identity.container_id.empty() || identity.unit.empty()) {
    const CgroupIdentity legacy = identify_cgroup_path(named_systemd);
    if (identity.container_id.empty()) identity.container_id = legacy.container_id;
    if (identity.unit.empty()) identity.unit = legacy.unit;
  }
  return identity;
}

ProcessContexts::ProcessContexts(ProcessContextConfig config, ProcessContextStats* stats)
    : config_(std::move(config)), stats_(stats), processes_(config_.capacity) {
  if (config_.ticks_per_second == 0) {
    const long ticks = ::sysconf(_SC_CLK_TCK);
    config_.ticks_per_second = ticks > 0 ? static_cast<std::uint64_t>(ticks) : 100;
  }
  if (config_.boot_time_ms == 0)
    config_.boot_time_ms = clock_ms(CLOCK_REALTIME) - clock_ms(CLOCK_BOOTTIME);
  path_ = config_.proc_root;
  if (path_.empty() || path_.back() != '/') path_.push_back('/');
  probe_with_signal_ = path_ == "/proc/";  // a test's fake /proc holds no real processes
  pidfds_ = probe_with_signal_;
  path_prefix_size_ = path_.size();
  path_.reserve(path_prefix_size_ + kMaxPidDigits + sizeof "/cgroup");
}

void ProcessContexts::annotate(RecordBatch& batch, std::uint64_t now_ms) {
  RecordView record;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // The record parser's reading of the header (the type of a log line, the event time).
    const std::uint32_t type = batch.type(i);
    if (type == RecordBatch::kLogLine) {
      if (parse_log_line(batch.text(i), record) != ParseStatus::ok || record.type != kTypeSyscall)
        continue;
    } else if (type != kTypeSyscall ||
               parse_netlink_payload(type, batch.text(i), record) != ParseStatus::ok) {
      continue;
    }
    std::uint64_t pid = 0, ppid = 0;
    if (!parse_decimal_u64(field_text(record.body, "ppid="), ppid) ||
        !parse_decimal_u64(field_text(record.body, "pid="), pid) || pid == 0 || pid > UINT32_MAX ||
        ppid > UINT32_MAX)
      continue;
    // An execve's record: the moment a process that moved itself to another cgroup (systemd's
    // and the container runtimes' children do, between fork and exec) shows its new one.
    const std::string_view call =
        syscalls_.name(field_text(record.body, "arch="), field_text(record.body, "syscall="));
    const bool exec = call == "execve" || call == "execveat";
    ProcessContext context;
    if (lookup(static_cast<std::uint32_t>(pid), static_cast<std::uint32_t>(ppid),
               record.key.sec * 1000 + record.key.msec, now_ms, context, exec))
      batch.attach_context(i, context);
  }
}

bool ProcessContexts::lookup(std::uint32_t pid, std::uint32_t ppid, std::uint64_t event_ms,
                             std::uint64_t now_ms, ProcessContext& out, bool exec) {
  out = ProcessContext{};
  // Copies: the parent's lookup may evict the process's entry or add a cgroup.
  bool hit = false;
  // After an exec the process is read again: it may have moved to another cgroup before it.
  const Entry* found = current(pid, event_ms, now_ms, exec ? kReadAgain : 0, hit);
  const bool process_known = found != nullptr;
  const Entry process = process_known ? *found : Entry{};
  const std::uint64_t process_start_ms =
      process_known && process.start_ticks != 0 ? start_ms_of(process.start_ticks) : 0;
  bool parent_hit = false;
  const Entry* parent_found =
      ppid != 0 ? current(ppid, event_ms, now_ms, process_start_ms, parent_hit) : nullptr;
  const Entry parent = parent_found != nullptr ? *parent_found : Entry{};
  if (process_known) {
    out.start_ticks = process.start_ticks;
    out.start_ms = start_ms_of(process.start_ticks);
  }
  const bool parent_known =
      parent_found != nullptr && (out.start_ticks == 0 || parent.start_ticks <= out.start_ticks);
  if (parent_known) {
    out.parent_start_ticks = parent.start_ticks;
    out.parent_comm_size = copy_into(out.parent_comm, {parent.comm, parent.comm_size});
  }
  const Cgroup* cgroup = process_known ? cgroup_of(process) : nullptr;
  if (cgroup == nullptr && parent_known) {
    cgroup = cgroup_of(parent);
    out.inherited = cgroup != nullptr;
  }
  if (cgroup != nullptr) {
    out.container_id_size = copy_into(out.container_id, cgroup->container_id);
    const std::size_t unit_size = std::min(cgroup->unit.size(), ProcessContext::kMaxUnitBytes);
    if (unit_size != 0) std::memcpy(out.unit, cgroup->unit.data(), unit_size);
    out.unit_size = static_cast<std::uint16_t>(unit_size);
  }
  if (hit) increment(stats_->process_context_hits);
  if (out.inherited) increment(stats_->process_context_inherited);
  if (out.empty() && out.parent_start_ticks == 0) {
    increment(stats_->process_context_unknown);
    return false;
  }
  return true;
}

const ProcessContexts::Entry* ProcessContexts::current(std::uint32_t pid, std::uint64_t event_ms,
                                                       std::uint64_t now_ms,
                                                       std::uint64_t seen_since_ms, bool& was_hit) {
  Entry* entry = processes_.find(pid);
  if (entry != nullptr) {
    const bool started_before = start_ms_of(entry->start_ticks) <= event_ms + kClockSlackMs;
    const bool seen_recently = event_ms <= entry->seen_ms + kTrustWindowMs;
    const bool gone = entry->start_ticks == 0 && entry->cgroup == kNoCgroup;
    if (started_before && seen_recently && (gone || cgroup_of(*entry) != nullptr)) {
      if (entry->seen_ms >= seen_since_ms) {
        was_hit = true;
        return gone ? nullptr : entry;
      }
      // Seen before its child started: is it still the owner of the pid? (its cgroup is kept)
      if (!gone && seen_since_ms != kReadAgain && still_owner(pid, event_ms, *entry)) {
        entry->seen_ms = now_ms;
        return entry;
      }
    }
  }
  // Its slot among the pids found gone, looked up once: checked now, rewritten if gone again.
  const std::size_t gone_slot = entry == nullptr ? recently_gone(pid) : kRecentlyGone;
  if (gone_slot != kRecentlyGone) {
    // Found gone a moment ago (pids are handed out in turn: not yet another process's).
    const std::uint64_t seen_ms = gone_seen_ms_[gone_slot];
    if (event_ms <= seen_ms + kTrustWindowMs && seen_ms >= seen_since_ms) {
      was_hit = true;
      return nullptr;
    }
  }
  Entry fresh;
  const bool found = read_proc(pid, event_ms, fresh, /*with_cgroup=*/true);
  fresh.seen_ms = now_ms;
  if (!found && entry == nullptr) {
    std::size_t slot = gone_slot;  // one slot per pid
    if (slot == kRecentlyGone) {
      slot = gone_next_;
      gone_next_ = (gone_next_ + 1) % kRecentlyGone;
    }
    gone_pids_[slot] = pid;
    gone_seen_ms_[slot] = now_ms;
    return nullptr;
  }
  if (entry == nullptr) {
    bool evicted = false;
    entry = &processes_.insert(pid, evicted);
    if (evicted) increment(stats_->process_context_evictions);
  }
  // A known process found gone stays (start unknown, no cgroup): its other records of the same
  // moment need not read /proc again.
  *entry = fresh;
  return found ? entry : nullptr;
}

std::size_t ProcessContexts::recently_gone(std::uint32_t pid) const {
  return static_cast<std::size_t>(std::find(gone_pids_.begin(), gone_pids_.end(), pid) -
                                  gone_pids_.begin());
}

bool ProcessContexts::still_owner(std::uint32_t pid, std::uint64_t event_ms, const Entry& entry) {
  Watch* watch = pidfds_ ? watched_parents_.find(pid) : nullptr;
  if (watch != nullptr && watch->pidfd && watch->start_ticks == entry.start_ticks) {
    pollfd exited{watch->pidfd.get(), POLLIN, 0};
    if (::poll(&exited, 1, 0) == 0) {  // not readable: it has not exited
      increment(stats_->process_context_pidfd_checks);
      return true;
    }
  }
  // The pidfd before the read: when the read then shows the entry's start time, the pidfd holds
  // that process (it held the pid throughout).
  UniqueFd pidfd;
  if (pidfds_) {
    // The system call itself: glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
    pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
    if (!pidfd && (errno == ENOSYS || errno == EPERM)) pidfds_ = false;  // not on this host
  }
  Entry again;
  if (!read_proc(pid, event_ms, again, /*with_cgroup=*/false) ||
      again.start_ticks != entry.start_ticks) {
    if (watch != nullptr) watch->pidfd.reset();
    return false;
  }
  if (pidfd) {
    if (watch == nullptr) {
      bool evicted = false;
      watch = &watched_parents_.insert(pid, evicted);
    }
    watch->pidfd = std::move(pidfd);
    watch->start_ticks = entry.start_ticks;
  }
  return true;
}

bool ProcessContexts::read_proc(std::uint32_t pid, std::uint64_t event_ms, Entry& out,
                                bool with_cgroup) {
  // Most short-lived processes are gone by the time their record is read: kill(pid, 0) says so
  // for a fraction of a failed /proc lookup's cost (EPERM: it exists, only not ours to signal).
  if (probe_with_signal_ && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  increment(stats_->process_context_proc_reads);
  char digits[kMaxPidDigits];
  const auto [end, error] = std::to_chars(digits, digits + sizeof digits, pid);
  path_.resize(path_prefix_size_);
  path_.append(digits, end);
  path_.push_back('/');
  // cgroup first: a process that was already exiting then shows it in the stat read after. Both
  // describe one process when stat shows it started before the record: a pid is not reused
  // while its process lives, so the same process held it when cgroup was read.
  if ((with_cgroup && !read_file("cgroup", cgroup_text_)) || !read_file("stat", stat_text_))
    return false;
  // pid (comm) state ppid ... starttime is the 22nd field; comm may hold spaces and ')'.
  const std::size_t open_paren = stat_text_.find('(');
  const std::size_t close_paren = stat_text_.rfind(')');
  if (open_paren == std::string::npos || close_paren == std::string::npos ||
      close_paren < open_paren)
    return false;
  std::string_view rest = std::string_view(stat_text_).substr(close_paren + 1);
  // A process that is exiting shows "/" in every cgroup v1 hierarchy (the kernel's
  // proc_cgroup_show for PF_EXITING tasks), and a zombie is past its cgroup: theirs is taken
  // from the parent.
  const std::size_t state_at = rest.find_first_not_of(' ');
  bool exiting =
      state_at != std::string_view::npos && (rest[state_at] == 'Z' || rest[state_at] == 'X');
  constexpr std::uint64_t kPfExiting = 0x4;
  std::uint64_t start_ticks = 0;
  std::uint64_t flags = 0;
  for (int field = 3; field <= 22; ++field) {
    rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
    const std::size_t space = rest.find(' ');
    if (field == 9 && parse_decimal_u64(rest.substr(0, space), flags))
      exiting |= (flags & kPfExiting) != 0;
    if (field == 22 && !parse_decimal_u64(rest.substr(0, space), start_ticks)) return false;
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space);
  }
  if (start_ticks == 0) start_ticks = 1;  // started with the kernel: known, not "unknown"
  // Started after the record: another process that took the pid since.
  if (start_ms_of(start_ticks) > event_ms + kClockSlackMs) return false;
  out.start_ticks = start_ticks;
  out.comm_size = copy_into(
      out.comm, std::string_view(stat_text_).substr(open_paren + 1, close_paren - open_paren - 1));
  if (with_cgroup && !exiting) {
    out.cgroup = intern_cgroup(cgroup_text_);
    out.cgroup_generation = cgroup_generation_;
  }
  return true;
}

bool ProcessContexts::read_file(std::string_view name, std::string& out) {
  const std::size_t directory_size = path_.size();
  path_.append(name);
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  path_.resize(directory_size);
  if (fd < 0) return false;
  constexpr std::size_t kChunk = 4096;
  constexpr std::size_t kMaxBytes = std::size_t{64} * 1024;
  out.clear();
  while (out.size() < kMaxBytes) {
    const std::size_t had = out.size();
    out.resize(had + kChunk);
    const ssize_t got = ::read(fd, out.data() + had, kChunk);
    if (got < 0 && errno == EINTR) {
      out.resize(had);
      continue;
    }
    out.resize(had + static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
    // procfs hands over all it has while it fits: a short read is the end.
    if (got < static_cast<ssize_t>(kChunk)) break;
  }
  ::close(fd);
  return !out.empty();
}

std::uint32_t ProcessContexts::intern_cgroup(std::string_view proc_cgroup_text) {
  const CgroupIdentity identity = identify_proc_cgroup(proc_cgroup_text);
  cgroup_key_.assign(identity.container_id);
  cgroup_key_.push_back('/');  // in neither an id nor a unit name
  cgroup_key_.append(identity.unit);
  const auto found = cgroup_index_.find(std::string_view(cgroup_key_));
  if (found != cgroup_index_.end()) return found->second;
  if (cgroups_.size() >= kMaxCgroups) {
    // Forget them all: entries holding an older generation read /proc again.
    cgroups_.clear();
    cgroup_index_.clear();
    ++cgroup_generation_;
  }
  const auto index = static_cast<std::uint32_t>(cgroups_.size());
  cgroups_.push_back(Cgroup{std::string(identity.container_id), std::string(identity.unit)});
  cgroup_index_.emplace(cgroup_key_, index);
  return index;
}

const ProcessContexts::Cgroup* ProcessContexts::cgroup_of(const Entry& entry) const {
  if (entry.cgroup == kNoCgroup || entry.cgroup_generation != cgroup_generation_) return nullptr;
  return &cgroups_[entry.cgroup];
}

std::uint64_t ProcessContexts::start_ms_of(std::uint64_t ticks) const {
  return config_.boot_time_ms + ticks * 1000 / config_.ticks_per_second;
}

}  // namespace aurelay::correlate
