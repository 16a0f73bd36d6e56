// One warning of a kind per interval: the ones held back in between are counted, and the next one
// that goes through says how many, so a flood of bad input or a long outage never floods the log.
// Every rate-limited message in aurelay goes through this class.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace aurelay {

class RateLimitedLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kDefaultInterval = std::chrono::seconds(10);

  explicit RateLimitedLog(std::chrono::milliseconds interval = kDefaultInterval)
      : interval_ms_(interval.count()) {}

  // True when a message may be logged at `now_ms` (any monotonic milliseconds); `suppressed`
  // then holds how many were held back since the last one that went through.
  bool allow(std::int64_t now_ms, std::uint64_t& suppressed);

  // Logs `message` as a warning when allowed, ending "(N similar message(s) suppressed)" when
  // some were held back. Returns whether it was logged.
  bool warn(std::int64_t now_ms, std::string_view message);
  bool warn(std::string_view message) { return warn(steady_ms(Clock::now()), message); }

  static std::int64_t steady_ms(Clock::time_point now) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  }

 private:
  std::int64_t interval_ms_;
  std::int64_t last_ms_ = 0;
  bool has_logged_ = false;
  std::uint64_t held_back_ = 0;
};

}  // namespace aurelay
