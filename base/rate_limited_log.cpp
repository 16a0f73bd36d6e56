#include "base/rate_limited_log.h"

#include <spdlog/spdlog.h>

namespace aurelay {

bool RateLimitedLog::allow(std::int64_t now_ms, std::uint64_t& suppressed) {
  if (has_logged_ && now_ms - last_ms_ < interval_ms_) {
    ++held_back_;
    return false;
  }
  has_logged_ = true;
  last_ms_ = now_ms;
  suppressed = held_back_;
  held_back_ = 0;
  return true;
}

bool RateLimitedLog::warn(std::int64_t now_ms, std::string_view message) {
  std::uint64_t suppressed = 0;
  if (!allow(now_ms, suppressed)) return false;
  if (suppressed > 0)
    spdlog::warn("{} ({} similar message(s) suppressed)", message, suppressed);
  else
    spdlog::warn("{}", message);
  return true;
}

}  // namespace aurelay
