// Counters and gauges owned by the component that counts them.
//
// A component declares its statistics as one list macro in its own header:
//
//   #define AURELAY_WIDGET_STATS(COUNTER, GAUGE)
//     COUNTER(widgets_made, "widgets made", "Widgets made since start")
//     GAUGE(widgets_waiting, "widgets waiting", "Widgets waiting for a part")
//
// (each line but the last ending in a backslash)
//   struct WidgetStats {
//     AURELAY_STATS_MEMBERS(AURELAY_WIDGET_STATS)
//   };
//
// and writes the members itself, from the one thread that owns it (increment(), set()). Each entry
// is (C++ member and Prometheus name aurelay_<name>, state file label, help). The daemon's
// Metrics (collector/telemetry/metrics.h) is the concatenation of every list: a component is handed
// its part of Metrics, so the main thread reads what the component wrote, with no copy between. A
// component used on its own (tests, benchmarks) keeps its statistics itself (StatsStorage).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace aurelay {

// Atomics so that the main thread may read them at any time (state file, Prometheus, exit
// summary); written with relaxed single-writer updates, which compile to plain loads and stores.
using Counter = std::atomic<std::uint64_t>;
using Gauge = std::atomic<std::int64_t>;

// Adds to a counter only one thread writes: no locked instruction on the hot path.
inline void increment(Counter& counter, std::uint64_t amount = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}
inline void set(Gauge& gauge, std::int64_t value) { gauge.store(value, std::memory_order_relaxed); }
inline std::uint64_t value_of(const Counter& counter) {
  return counter.load(std::memory_order_relaxed);
}
inline std::int64_t value_of(const Gauge& gauge) { return gauge.load(std::memory_order_relaxed); }

#define AURELAY_STAT_MEMBER_COUNTER(name, label, help) ::aurelay::Counter name{0};
#define AURELAY_STAT_MEMBER_GAUGE(name, label, help) ::aurelay::Gauge name{0};
// The members of a stats struct, one atomic per entry of LIST.
#define AURELAY_STATS_MEMBERS(LIST) LIST(AURELAY_STAT_MEMBER_COUNTER, AURELAY_STAT_MEMBER_GAUGE)

// Where a component's statistics live: the caller's (a part of Metrics) when it passes them,
// otherwise the component's own. Movable; the statistics never move.
template <typename Stats>
class StatsStorage {
 public:
  explicit StatsStorage(Stats* external)
      : owned_(external == nullptr ? std::make_unique<Stats>() : nullptr),
        stats_(external == nullptr ? owned_.get() : external) {}

  Stats& operator*() const { return *stats_; }
  Stats* operator->() const { return stats_; }

 private:
  std::unique_ptr<Stats> owned_;
  Stats* stats_;
};

}  // namespace aurelay
