// Lets one warning of a kind through per interval and counts the ones held back, so a flood of
// bad input never floods the log.
#pragma once

#include <chrono>
#include <cstdint>

namespace aurelay::collector {

class RateLimitedLog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimitedLog(std::chrono::milliseconds interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // True when a message may be logged now; `suppressed` then holds how many were held back since
  // the last one that went through.
  bool allow(Clock::time_point now, std::uint64_t& suppressed) {
    if (has_logged_ && now - last_ < interval_) {
      ++held_back_;
      return false;
    }
    has_logged_ = true;
    last_ = now;
    suppressed = held_back_;
    held_back_ = 0;
    return true;
  }

 private:
  std::chrono::milliseconds interval_;
  Clock::time_point last_{};
  bool has_logged_ = false;
  std::uint64_t held_back_ = 0;
};

}  // namespace aurelay::collector
