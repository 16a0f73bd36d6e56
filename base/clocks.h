// Milliseconds read from the system's clocks: the one place the project turns a clock into a
// millisecond count.
#pragma once

#include <time.h>

#include <cstdint>

namespace aurelay {

// Milliseconds of `clock`: CLOCK_REALTIME counts since the epoch, CLOCK_BOOTTIME since boot
// (suspend included, the clock of /proc/PID/stat's start time), CLOCK_MONOTONIC since an
// unspecified start without suspend.
inline std::uint64_t clock_ms(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000 +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000000;
}

// Milliseconds since the epoch.
inline std::uint64_t wall_clock_ms() { return clock_ms(CLOCK_REALTIME); }

}  // namespace aurelay
