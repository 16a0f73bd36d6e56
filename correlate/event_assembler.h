// Groups records into events. Synchronous and single-threaded: the caller owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "correlate/event.h"
#include "correlate/record.h"

namespace aurelay::correlate {

struct AssemblerConfig {
  std::chrono::milliseconds eoe_timeout{2000};
  std::size_t max_in_flight = 4096;
  // How many completed keys to remember so a late record is recognised as a fragment.
  std::size_t remembered_completed = 4096;
};

struct AssemblerCounters {
  std::uint64_t records = 0;         // records accepted
  std::uint64_t replace_ignored = 0; // AUDIT_REPLACE probes dropped
  std::uint64_t events = 0;          // events emitted, all reasons
  std::uint64_t by_eoe = 0;
  std::uint64_t by_terminal = 0;
  std::uint64_t by_timeout = 0;
  std::uint64_t by_overflow = 0;
  std::uint64_t by_end_of_input = 0;
  std::uint64_t late_records = 0;    // records for an already emitted event (sent as fragments)
  std::uint64_t late_eoe = 0;        // EOE for an already emitted event (nothing to send)
};

// Receives each completed event. The event is only valid during the call.
using EventHandler = std::function<void(const Event&)>;

class EventAssembler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  EventAssembler(AssemblerConfig config, EventHandler handler);
  ~EventAssembler();
  EventAssembler(const EventAssembler&) = delete;
  EventAssembler& operator=(const EventAssembler&) = delete;

  // Adds one record; `now` is the caller's clock (wall clock live, a fake one in tests).
  void add(const RecordView& record, TimePoint now);
  // Completes events whose first record is older than eoe_timeout.
  void expire(TimePoint now);
  // Completes every open event (end of input, shutdown).
  void flush();

  std::size_t in_flight() const;
  const AssemblerCounters& counters() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace aurelay::correlate
