// Bounded process table (see process_table.h) over a PidLru: fixed slots, least recently seen
// evicted first.
#include "correlate/process_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <utility>

namespace aurelay::correlate {
namespace {

constexpr std::string_view kCommFile = "/comm";
constexpr std::size_t kMaxPidDigits = 10;  // UINT32_MAX

std::uint64_t hash_exe(std::string_view exe) { return std::hash<std::string_view>{}(exe); }

}  // namespace

void ProcessTable::Entry::set_name(std::string_view name) {
  name = name.substr(0, kMaxCommBytes);
  comm_size = static_cast<std::uint8_t>(name.size());
  if (!name.empty()) std::memcpy(comm, name.data(), name.size());  // data() may be null
}

ProcessTable::ProcessTable(ProcessTableConfig config, ProcessTableStats* stats)
    : config_(std::move(config)), stats_(stats), entries_(config_.capacity) {
  proc_path_ = config_.proc_root;
  if (proc_path_.empty() || proc_path_.back() != '/') proc_path_.push_back('/');
  proc_prefix_size_ = proc_path_.size();
  proc_path_.reserve(proc_prefix_size_ + kMaxPidDigits + kCommFile.size());
}

ProcessTable::Entry& ProcessTable::insert(std::uint32_t pid) {
  bool evicted = false;
  Entry& entry = entries_.insert(pid, evicted);
  if (evicted) increment(stats_->process_table_evictions);
  return entry;
}

void ProcessTable::observe(std::uint32_t pid, std::uint32_t ppid, std::string_view comm,
                           std::string_view exe, std::uint64_t start_ticks) {
  if (pid == 0) return;
  comm = comm.substr(0, kMaxCommBytes);
  const std::uint64_t exe_hash = hash_exe(exe);
  Entry* entry = entries_.find(pid);
  bool replaced = false;
  if (entry == nullptr) {
    entry = &insert(pid);
  } else {
    const bool same_comm = entry->name() == comm;
    const bool same_image =
        entry->from_proc || (entry->ppid == ppid && entry->exe_hash == exe_hash);
    replaced = !same_comm || !same_image;
    if (replaced) ++replaced_;
  }
  entry->ppid = ppid;
  entry->exe_hash = exe_hash;
  entry->from_proc = false;
  // An unchanged process keeps its start time when a record comes without one.
  if (start_ticks != 0 || replaced) entry->start_ticks = start_ticks;
  entry->set_name(comm);
}

std::string_view ProcessTable::name_of(std::uint32_t pid, const ParentSighting& sighting) {
  if (pid == 0) return {};
  if (Entry* entry = entries_.find(pid)) {
    const bool other_owner = sighting.start_ticks != 0 && entry->start_ticks != 0 &&
                             sighting.start_ticks != entry->start_ticks;
    if (!other_owner) {
      increment(stats_->parent_known);
      return entry->name();
    }
    increment(stats_->parent_reused);
    *entry = Entry{};
    entry->from_proc = true;
    entry->start_ticks = sighting.start_ticks;
    entry->set_name(sighting.comm);
    return entry->name();
  }
  increment(stats_->parent_unknown);
  if (!sighting.comm.empty()) {
    increment(stats_->parent_sighted);
    Entry& entry = insert(pid);
    entry.from_proc = true;
    entry.start_ticks = sighting.start_ticks;
    entry.set_name(sighting.comm);
    return entry.name();
  }
  if (!config_.proc_fallback) return {};
  increment(stats_->parent_proc_reads);
  char comm[kMaxCommBytes];
  std::size_t size = 0;
  if (!read_proc_comm(pid, comm, size)) {
    ++proc_failures_;
    return {};
  }
  Entry& entry = insert(pid);
  entry.from_proc = true;
  entry.set_name(std::string_view(comm, size));
  return entry.name();
}

bool ProcessTable::read_proc_comm(std::uint32_t pid, char* out, std::size_t& size) {
  char digits[kMaxPidDigits];
  const auto [end, error] = std::to_chars(digits, digits + sizeof digits, pid);
  proc_path_.resize(proc_prefix_size_);
  proc_path_.append(digits, end);
  proc_path_.append(kCommFile);
  const int fd = ::open(proc_path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return false;
  char buffer[kMaxProcReadBytes];
  ssize_t got;
  do {
    got = ::read(fd, buffer, sizeof buffer);
  } while (got < 0 && errno == EINTR);
  ::close(fd);
  if (got <= 0) return false;
  std::size_t length = static_cast<std::size_t>(got);
  if (buffer[length - 1] == '\n') --length;
  if (length == 0) return false;
  size = std::min(length, kMaxCommBytes);
  std::memcpy(out, buffer, size);
  return true;
}

}  // namespace aurelay::correlate
