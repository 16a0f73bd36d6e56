// Lets a thread sleep until another thread has news, without a lock and without spinning
// (an event count over a futex). The waiter announces itself, re-checks its condition, then
// sleeps; a notifier that published news wakes it only when somebody is waiting, so the
// common path of notify() is one fence and one load.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>

namespace aurelay {

class Parker {
 public:
  // Waiter: call prepare(), re-check the condition; if still false call wait(ticket, timeout),
  // otherwise cancel().
  std::uint32_t prepare() {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void cancel() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  void wait(std::uint32_t ticket, std::chrono::milliseconds timeout) {
    timespec ts{static_cast<time_t>(timeout.count() / 1000),
                static_cast<long>((timeout.count() % 1000) * 1000000)};
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, ticket, &ts,
            nullptr, 0);
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
  }

  // Notifier: call after publishing the news (e.g. after a ring push).
  void notify() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_seq_cst) == 0) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, INT_MAX,
            nullptr, nullptr, 0);
  }

  // Convenience: waits up to `timeout` unless `ready()` turns true first.
  template <typename Ready>
  void wait_until(Ready ready, std::chrono::milliseconds timeout) {
    std::uint32_t ticket = prepare();
    if (ready()) {
      cancel();
      return;
    }
    wait(ticket, timeout);
  }

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace aurelay
