// Delivery latency of the last batches (event time -> acknowledgment), with its median and 99th
// percentile, for the sinks' counters. Synchronous; owned by the sink's thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace aurelay::output {

class LatencyWindow {
 public:
  static constexpr std::size_t kBatches = 4096;

  // A batch whose oldest event is from `event_ms` was delivered at `now_ms` (both wall clock,
  // ms). `event_ms` 0 (unknown) is not counted.
  void record(std::uint64_t event_ms, std::uint64_t now_ms) {
    if (event_ms == 0) return;
    const std::uint64_t latency = now_ms > event_ms ? now_ms - event_ms : 0;
    const auto value = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(latency, std::numeric_limits<std::uint32_t>::max()));
    if (values_.size() < kBatches)
      values_.push_back(value);
    else
      values_[next_] = value;
    next_ = (next_ + 1) % kBatches;
    dirty_ = true;
  }
  std::uint64_t p50() { return quantiles().first; }
  std::uint64_t p99() { return quantiles().second; }

 private:
  // (p50, p99), computed again only after a new value.
  const std::pair<std::uint64_t, std::uint64_t>& quantiles() {
    if (dirty_ && !values_.empty()) {
      sorted_.assign(values_.begin(), values_.end());
      auto at = [&](double q) {
        const auto index = static_cast<std::size_t>(q * static_cast<double>(sorted_.size() - 1));
        std::nth_element(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(index),
                         sorted_.end());
        return static_cast<std::uint64_t>(sorted_[index]);
      };
      cached_ = {at(0.50), at(0.99)};
      dirty_ = false;
    }
    return cached_;
  }

  std::vector<std::uint32_t> values_;  // ring of the last kBatches latencies
  std::vector<std::uint32_t> sorted_;  // scratch
  std::size_t next_ = 0;
  bool dirty_ = false;
  std::pair<std::uint64_t, std::uint64_t> cached_{0, 0};
};

}  // namespace aurelay::output
