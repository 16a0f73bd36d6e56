// The delivery-latency window both network sinks report: exact quantiles, a bounded window,
// unknown event times left out.
#include "output/latency_window.h"

#include <gtest/gtest.h>

namespace aurelay::output {
namespace {

TEST(LatencyWindow, MedianAndP99OfTheLastBatches) {
  LatencyWindow window;
  EXPECT_EQ(window.p50(), 0u);
  for (std::uint64_t ms = 1; ms <= 101; ++ms) window.record(1000, 1000 + ms);  // 1..101 ms
  EXPECT_EQ(window.p50(), 51u);
  EXPECT_EQ(window.p99(), 100u);
  window.record(0, 5000);  // unknown event time: not counted
  EXPECT_EQ(window.p50(), 51u);
  window.record(2000, 1000);     // clock stepped back: 0 ms, never negative
  EXPECT_EQ(window.p50(), 50u);  // 0, 1..101: the middle one moved down
}

TEST(LatencyWindow, KeepsOnlyTheLastBatches) {
  LatencyWindow window;
  for (std::size_t i = 0; i < LatencyWindow::kBatches; ++i) window.record(1, 1 + 1000);
  for (std::size_t i = 0; i < LatencyWindow::kBatches; ++i) window.record(1, 1 + 10);
  EXPECT_EQ(window.p50(), 10u);  // the 1000 ms batches are out of the window
  EXPECT_EQ(window.p99(), 10u);
}

}  // namespace
}  // namespace aurelay::output
