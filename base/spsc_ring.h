// A bounded lock-free single-producer/single-consumer ring of trivially copyable values
// (pointers to batches). Capacity is a power of two. Each index lives on its own cache line
// and each side caches the other side's index, so a push or pop touches shared lines only when
// the cached view says the ring is full or empty.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <type_traits>

namespace aurelay {

inline constexpr std::size_t kCacheLine = 64;

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "SpscRing carries trivially copyable values");

 public:
  explicit SpscRing(std::size_t min_capacity)
      : capacity_(std::bit_ceil(min_capacity < 2 ? std::size_t{2} : min_capacity)),
        mask_(capacity_ - 1),
        slots_(std::make_unique<T[]>(capacity_)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const { return capacity_; }

  // Producer side. Returns false when the ring is full.
  [[nodiscard]] bool try_push(T value) {
    const std::uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
    if (tail - producer_.cached_head >= capacity_) {
      producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
      if (tail - producer_.cached_head >= capacity_) return false;
    }
    slots_[tail & mask_] = value;
    producer_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Producer side, for a ring that can hold every value in circulation (a pool of N batches
  // passed between rings of capacity >= N): such a push cannot find the ring full. A full ring
  // there is a bug that would lose a batch, so it stops the process with a message.
  void push_within_capacity(T value) {
    if (try_push(value)) [[likely]]
      return;
    std::fputs("aurelay: internal error: a ring sized for every batch was full\n", stderr);
    std::abort();
  }

  // Consumer side. Returns false when the ring is empty.
  [[nodiscard]] bool try_pop(T& value) {
    const std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
    if (head == consumer_.cached_tail) {
      consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
      if (head == consumer_.cached_tail) return false;
    }
    value = slots_[head & mask_];
    consumer_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Either side: an instantaneous, possibly stale, count.
  std::size_t size() const {
    const std::uint64_t head = consumer_.head.load(std::memory_order_acquire);
    const std::uint64_t tail = producer_.tail.load(std::memory_order_acquire);
    return tail >= head ? static_cast<std::size_t>(tail - head) : 0;
  }
  bool empty() const { return size() == 0; }

 private:
  struct alignas(kCacheLine) ProducerSide {
    std::atomic<std::uint64_t> tail{0};
    std::uint64_t cached_head = 0;
  };
  struct alignas(kCacheLine) ConsumerSide {
    std::atomic<std::uint64_t> head{0};
    std::uint64_t cached_tail = 0;
  };

  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  ProducerSide producer_;
  ConsumerSide consumer_;
};

}  // namespace aurelay
