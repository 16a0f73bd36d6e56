// When to try a failed HTTP delivery again, and which answers are worth retrying.
#pragma once

#include <cstdint>
#include <functional>

namespace aurelay::output {

// What a finished POST means for the batch it carried.
enum class DeliveryOutcome : std::uint8_t {
  delivered,  // 2xx
  retry,      // 5xx, 408, 429, timeouts, connection and TLS errors
  rejected,   // any other status (4xx, 3xx, 1xx): the server will never take this body
};

// `http_status` is 0 when no answer arrived (transport error).
DeliveryOutcome classify_delivery(long http_status, bool transport_error);

// Defaults of retry_base_ms and retry_max_ms (the option table and every sink's config).
inline constexpr std::uint64_t kDefaultRetryBaseMs = 100;
inline constexpr std::uint64_t kDefaultRetryMaxMs = 30000;

// Full-jitter exponential backoff: the n-th consecutive failure (n >= 1) waits a uniformly random
// time in [0, min(max_ms, base_ms * 2^(n-1))]. The random source is injected so tests are exact:
// it returns a value in [0, bound] (inclusive).
class RetryPolicy {
 public:
  using RandomSource = std::function<std::uint64_t(std::uint64_t bound)>;

  // Default random source: a std::mt19937_64 seeded from std::random_device.
  RetryPolicy(std::uint64_t base_ms, std::uint64_t max_ms);
  RetryPolicy(std::uint64_t base_ms, std::uint64_t max_ms, RandomSource random);

  // Upper bound of the wait after `failures` consecutive failures (0 when failures == 0).
  std::uint64_t ceiling_ms(std::uint32_t failures) const;
  // Wait after `failures` consecutive failures.
  std::uint64_t delay_ms(std::uint32_t failures);

  std::uint64_t base_ms() const { return base_ms_; }
  std::uint64_t max_ms() const { return max_ms_; }

 private:
  std::uint64_t base_ms_;
  std::uint64_t max_ms_;
  RandomSource random_;
};

}  // namespace aurelay::output
