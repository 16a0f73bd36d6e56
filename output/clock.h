// The time an output's own waiting logic reads: retry backoff, batch deadlines, flush deadlines,
// rate-limited warnings, and the wall time delivery latency is measured against.
//
// Outputs wait in their own poll (curl_multi_poll, a socket poll) for sockets, wake-ups and their
// timers at once. They ask the clock how long to block when only their own timer can end the
// wait (nothing in flight): the real clock blocks that long; a test's ManualClock instead moves
// its virtual time on by that much and blocks not at all, so backoff and deadlines pass in
// virtual time while the sockets stay real.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/clocks.h"

namespace aurelay::output {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds (deadlines, backoff, rate limits).
  virtual std::int64_t steady_ms() = 0;
  // Milliseconds since the epoch (latency from an event's own timestamp).
  virtual std::uint64_t wall_ms() = 0;
  // The caller is about to block for up to `wait_ms` with nothing in flight, so only its own
  // timers (or a wake-up) can end the wait early: returns how long to really block.
  virtual std::int64_t idle_wait(std::int64_t wait_ms) = 0;
};

// The real clocks: std::chrono::steady_clock and the wall clock (base/clocks.h).
class SteadyClock final : public Clock {
 public:
  std::int64_t steady_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::uint64_t wall_ms() override { return wall_clock_ms(); }
  std::int64_t idle_wait(std::int64_t wait_ms) override { return wait_ms; }

  // The one instance outputs use unless a test gives them another clock.
  static SteadyClock& instance() {
    static SteadyClock clock;
    return clock;
  }
};

// Virtual time for tests: starts at the real wall time, moves only by advance() and by the idle
// waits of the output that reads it (each one jumps to the end of the wait at once).
class ManualClock final : public Clock {
 public:
  ManualClock() : wall_start_ms_(SteadyClock::instance().wall_ms()) {}

  std::int64_t steady_ms() override { return now_ms_; }
  std::uint64_t wall_ms() override { return wall_start_ms_ + static_cast<std::uint64_t>(now_ms_); }
  std::int64_t idle_wait(std::int64_t wait_ms) override {
    if (wait_ms > 0) now_ms_ += wait_ms;
    idle_waited_ms_ += wait_ms > 0 ? wait_ms : 0;
    return 0;
  }

  void advance(std::int64_t ms) { now_ms_ += ms; }
  // Virtual milliseconds spent in idle waits so far.
  std::int64_t idle_waited_ms() const { return idle_waited_ms_; }

 private:
  std::uint64_t wall_start_ms_;
  std::int64_t now_ms_ = 0;
  std::int64_t idle_waited_ms_ = 0;
};

}  // namespace aurelay::output
