// Bounded process table (see process_table.h): fixed slots, an open-addressing index by pid
// (linear probing, backward-shift deletion) and an intrusive least-recently-seen list.
#include "correlate/process_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
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

ProcessTable::ProcessTable(ProcessTableConfig config, ProcessTableStats* stats)
    : config_(std::move(config)), stats_(stats) {
  const std::size_t capacity = std::max<std::size_t>(config_.capacity, 1);
  capacity_ = std::min<std::size_t>(capacity, kNone - 1);
  slots_.reserve(capacity_);
  // At most half full, so probe runs stay short.
  const std::size_t index_size = std::bit_ceil(capacity_ * 2);
  index_.assign(index_size, kNone);
  index_mask_ = static_cast<std::uint32_t>(index_size - 1);
  proc_path_ = config_.proc_root;
  if (proc_path_.empty() || proc_path_.back() != '/') proc_path_.push_back('/');
  proc_prefix_size_ = proc_path_.size();
  proc_path_.reserve(proc_prefix_size_ + kMaxPidDigits + kCommFile.size());
}

void ProcessTable::observe(std::uint32_t pid, std::uint32_t ppid, std::string_view comm,
                           std::string_view exe) {
  if (pid == 0) return;
  comm = comm.substr(0, kMaxCommBytes);
  const std::uint64_t exe_hash = hash_exe(exe);
  std::uint32_t index = find(pid);
  if (index == kNone) {
    index = insert(pid);
  } else {
    Slot& slot = slots_[index];
    const bool same_comm = std::string_view(slot.comm, slot.comm_size) == comm;
    const bool same_image = slot.from_proc || (slot.ppid == ppid && slot.exe_hash == exe_hash);
    if (!same_comm || !same_image) ++replaced_;
    touch(index);
  }
  Slot& slot = slots_[index];
  slot.ppid = ppid;
  slot.exe_hash = exe_hash;
  slot.from_proc = false;
  slot.comm_size = static_cast<std::uint8_t>(comm.size());
  if (!comm.empty()) std::memcpy(slot.comm, comm.data(), comm.size());  // data() may be null
}

std::string_view ProcessTable::name_of(std::uint32_t pid) {
  if (pid == 0) return {};
  std::uint32_t index = find(pid);
  if (index != kNone) {
    increment(stats_->parent_known);
    touch(index);
    return std::string_view(slots_[index].comm, slots_[index].comm_size);
  }
  increment(stats_->parent_unknown);
  if (!config_.proc_fallback) return {};
  increment(stats_->parent_proc_reads);
  char comm[kMaxCommBytes];
  std::size_t size = 0;
  if (!read_proc_comm(pid, comm, size)) {
    ++proc_failures_;
    return {};
  }
  index = insert(pid);
  Slot& slot = slots_[index];
  slot.ppid = 0;
  slot.exe_hash = 0;
  slot.from_proc = true;
  slot.comm_size = static_cast<std::uint8_t>(size);
  std::memcpy(slot.comm, comm, size);
  return std::string_view(slot.comm, slot.comm_size);
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

namespace {

// Fibonacci hashing: pids are dense and sequential, the multiply spreads them over the index.
inline std::uint32_t home_of(std::uint32_t pid, std::uint32_t mask) {
  return static_cast<std::uint32_t>((pid * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

}  // namespace

std::uint32_t ProcessTable::find(std::uint32_t pid) const {
  for (std::uint32_t position = home_of(pid, index_mask_);;
       position = (position + 1) & index_mask_) {
    const std::uint32_t index = index_[position];
    if (index == kNone) return kNone;
    if (slots_[index].pid == pid) return index;
  }
}

std::uint32_t ProcessTable::insert(std::uint32_t pid) {
  std::uint32_t index;
  if (size_ < capacity_) {
    index = size_++;
    slots_.emplace_back();
  } else {
    index = oldest_;
    unlink(index);
    index_remove(slots_[index].pid);
    increment(stats_->process_table_evictions);
  }
  slots_[index].pid = pid;
  std::uint32_t position = home_of(pid, index_mask_);
  while (index_[position] != kNone) position = (position + 1) & index_mask_;
  index_[position] = index;
  link_newest(index);
  return index;
}

void ProcessTable::index_remove(std::uint32_t pid) {
  std::uint32_t hole = home_of(pid, index_mask_);
  while (slots_[index_[hole]].pid != pid) hole = (hole + 1) & index_mask_;
  // Backward shift: move later members of the probe run into the hole when their home allows it.
  for (std::uint32_t next = (hole + 1) & index_mask_;; next = (next + 1) & index_mask_) {
    const std::uint32_t index = index_[next];
    if (index == kNone) break;
    const std::uint32_t home = home_of(slots_[index].pid, index_mask_);
    // Distance from home to `next` vs from `hole` to `next` (cyclic): movable when the hole lies
    // between its home and where it sits.
    const std::uint32_t from_home = (next - home) & index_mask_;
    const std::uint32_t from_hole = (next - hole) & index_mask_;
    if (from_home >= from_hole) {
      index_[hole] = index;
      hole = next;
    }
  }
  index_[hole] = kNone;
}

void ProcessTable::unlink(std::uint32_t index) {
  Slot& slot = slots_[index];
  if (slot.newer != kNone) {
    slots_[slot.newer].older = slot.older;
  } else {
    newest_ = slot.older;
  }
  if (slot.older != kNone) {
    slots_[slot.older].newer = slot.newer;
  } else {
    oldest_ = slot.newer;
  }
  slot.newer = slot.older = kNone;
}

void ProcessTable::link_newest(std::uint32_t index) {
  Slot& slot = slots_[index];
  slot.newer = kNone;
  slot.older = newest_;
  if (newest_ != kNone) slots_[newest_].newer = index;
  newest_ = index;
  if (oldest_ == kNone) oldest_ = index;
}

void ProcessTable::touch(std::uint32_t index) {
  if (index == newest_) return;
  unlink(index);
  link_newest(index);
}

}  // namespace aurelay::correlate
