// A bounded map from pid to a fixed-size value, least recently used evicted first: fixed slots,
// an open-addressing index by pid (linear probing, backward-shift deletion) and an intrusive
// recency list. Every operation is O(1) and allocates nothing once the slots are in use (they are
// reserved at construction and constructed as pids arrive). The process table (correlator
// thread) and the process contexts (reader thread) each own one.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace aurelay::correlate {

template <class Value>
class PidLru {
 public:
  explicit PidLru(std::size_t capacity) {
    capacity_ = std::min<std::size_t>(std::max<std::size_t>(capacity, 1), kNone - 1);
    slots_.reserve(capacity_);
    // At most half full, so probe runs stay short.
    const std::size_t index_size = std::bit_ceil(capacity_ * 2);
    index_.assign(index_size, kNone);
    index_mask_ = static_cast<std::uint32_t>(index_size - 1);
  }

  // The value of `pid`, marked most recently used; nullptr when absent.
  Value* find(std::uint32_t pid) {
    const std::uint32_t index = find_index(pid);
    if (index == kNone) return nullptr;
    touch(index);
    return &slots_[index].value;
  }

  // A value-initialised slot for `pid`, which must be absent, marked most recently used. When the
  // map is full the least recently used pid is evicted for it (`evicted` set).
  Value& insert(std::uint32_t pid, bool& evicted) {
    std::uint32_t index;
    evicted = size_ == capacity_;
    if (!evicted) {
      index = static_cast<std::uint32_t>(size_++);
      slots_.emplace_back();
    } else {
      index = oldest_;
      unlink(index);
      index_remove(slots_[index].pid);
      slots_[index].value = Value{};
    }
    slots_[index].pid = pid;
    std::uint32_t position = home_of(pid);
    while (index_[position] != kNone) position = (position + 1) & index_mask_;
    index_[position] = index;
    link_newest(index);
    return slots_[index].value;
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  struct Slot {
    std::uint32_t pid = 0;
    std::uint32_t newer = kNone;  // towards the most recently used
    std::uint32_t older = kNone;  // towards the least recently used
    Value value{};
  };

  // Fibonacci hashing: pids are dense and sequential, the multiply spreads them over the index.
  std::uint32_t home_of(std::uint32_t pid) const {
    return static_cast<std::uint32_t>((pid * 0x9E3779B97F4A7C15ull) >> 32) & index_mask_;
  }

  std::uint32_t find_index(std::uint32_t pid) const {
    for (std::uint32_t position = home_of(pid);; position = (position + 1) & index_mask_) {
      const std::uint32_t index = index_[position];
      if (index == kNone) return kNone;
      if (slots_[index].pid == pid) return index;
    }
  }

  void index_remove(std::uint32_t pid) {
    std::uint32_t hole = home_of(pid);
    while (slots_[index_[hole]].pid != pid) hole = (hole + 1) & index_mask_;
    // Backward shift: move later members of the probe run into the hole when their home allows.
    for (std::uint32_t next = (hole + 1) & index_mask_;; next = (next + 1) & index_mask_) {
      const std::uint32_t index = index_[next];
      if (index == kNone) break;
      // Distance from home to `next` vs from `hole` to `next` (cyclic): movable when the hole
      // lies between its home and where it sits.
      const std::uint32_t from_home = (next - home_of(slots_[index].pid)) & index_mask_;
      const std::uint32_t from_hole = (next - hole) & index_mask_;
      if (from_home >= from_hole) {
        index_[hole] = index;
        hole = next;
      }
    }
    index_[hole] = kNone;
  }

  void unlink(std::uint32_t index) {
    Slot& slot = slots_[index];
    (slot.newer != kNone ? slots_[slot.newer].older : newest_) = slot.older;
    (slot.older != kNone ? slots_[slot.older].newer : oldest_) = slot.newer;
    slot.newer = slot.older = kNone;
  }

  void link_newest(std::uint32_t index) {
    Slot& slot = slots_[index];
    slot.newer = kNone;
    slot.older = newest_;
    if (newest_ != kNone) slots_[newest_].newer = index;
    newest_ = index;
    if (oldest_ == kNone) oldest_ = index;
  }

  void touch(std::uint32_t index) {
    if (index == newest_) return;
    unlink(index);
    link_newest(index);
  }

  std::vector<Slot> slots_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::vector<std::uint32_t> index_;  // slot index or kNone
  std::uint32_t index_mask_ = 0;
  std::uint32_t newest_ = kNone;
  std::uint32_t oldest_ = kNone;
};

}  // namespace aurelay::correlate
