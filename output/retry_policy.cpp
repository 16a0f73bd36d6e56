#include "output/retry_policy.h"

#include <memory>
#include <random>

namespace aurelay::output {

DeliveryOutcome classify_delivery(long http_status, bool transport_error) {
  if (transport_error || http_status == 0) return DeliveryOutcome::retry;
  if (http_status >= 200 && http_status < 300) return DeliveryOutcome::delivered;
  if (http_status >= 500 || http_status == 408 || http_status == 429) {
    return DeliveryOutcome::retry;
  }
  return DeliveryOutcome::rejected;
}

namespace {

RetryPolicy::RandomSource default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine](std::uint64_t bound) {
    return std::uniform_int_distribution<std::uint64_t>(0, bound)(*engine);
  };
}

}  // namespace

RetryPolicy::RetryPolicy(std::uint64_t base_ms, std::uint64_t max_ms)
    : RetryPolicy(base_ms, max_ms, default_random()) {}

RetryPolicy::RetryPolicy(std::uint64_t base_ms, std::uint64_t max_ms, RandomSource random)
    : base_ms_(base_ms == 0 ? 1 : base_ms),
      max_ms_(max_ms < base_ms_ ? base_ms_ : max_ms),
      random_(std::move(random)) {}

std::uint64_t RetryPolicy::ceiling_ms(std::uint32_t failures) const {
  if (failures == 0) return 0;
  std::uint64_t ceiling = base_ms_;
  for (std::uint32_t i = 1; i < failures && ceiling < max_ms_; ++i) ceiling *= 2;
  return ceiling < max_ms_ ? ceiling : max_ms_;
}

std::uint64_t RetryPolicy::delay_ms(std::uint32_t failures) {
  std::uint64_t ceiling = ceiling_ms(failures);
  if (ceiling == 0) return 0;
  std::uint64_t value = random_(ceiling);
  return value > ceiling ? ceiling : value;
}

}  // namespace aurelay::output
