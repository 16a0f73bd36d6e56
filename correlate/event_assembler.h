// Groups records into events. Synchronous and single-threaded: the caller owns it.
//
// Completion rules (DESIGN.md "Kernel facts"; laurel and go-libaudit agree on them):
// - EOE completes its event; EOE itself is never stored in the event.
// - Terminal types complete at once: user-space messages (1100-1299, 2100 and above), 1005, and the
//   rest of the 1000-1099 block (control/daemon numbers that never start a multi-record kernel
//   event; go-libaudit completes everything up to 1299 at once and laurel only waits for LOGIN and
//   1300-2099, so both treat these as standalone).
// - LOGIN (1006) and 1300-2099 wait for EOE (they may be followed by SYSCALL ... EOE), or complete
//   on the timeout, on overflow, or on flush().
// - AUDIT_REPLACE (1329) is a kernel probe: dropped and counted, never an event.
// A record for an event that was already emitted (its key is among the last
// `remembered_completed` completed keys) opens a continuation event for that key
// (Event::is_continuation()), grouped and completed by the same rules as any event (EOE, terminal
// type, timeout, overflow, flush), so a user message's late SYSCALL, SOCKADDR, ... EOE make one
// continuation document, not one per record. An EOE for an emitted key with no open
// continuation is only counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "correlate/event.h"
#include "correlate/record.h"

namespace aurelay::correlate {

// Defaults of eoe_timeout_ms and max_in_flight (the option table formats these same constants).
inline constexpr std::uint64_t kDefaultEoeTimeoutMs = 2000;
inline constexpr std::size_t kDefaultMaxInFlight = 4096;

struct AssemblerConfig {
  std::chrono::milliseconds eoe_timeout{kDefaultEoeTimeoutMs};
  std::size_t max_in_flight = kDefaultMaxInFlight;
  // How many completed keys to remember so a late record is recognised as a continuation.
  std::size_t remembered_completed = 4096;
};

struct AssemblerCounters {
  std::uint64_t records = 0;          // records accepted (EOE included, AUDIT_REPLACE not)
  std::uint64_t replace_ignored = 0;  // AUDIT_REPLACE probes dropped
  std::uint64_t events = 0;           // events emitted, all reasons (continuations included)
  std::uint64_t by_eoe = 0;
  std::uint64_t by_terminal = 0;
  std::uint64_t by_timeout = 0;
  std::uint64_t by_overflow = 0;
  std::uint64_t by_end_of_input = 0;
  std::uint64_t late_records = 0;   // records for an already emitted event (in continuations)
  std::uint64_t continuations = 0;  // continuation events opened
  std::uint64_t late_eoe = 0;       // EOE for an already emitted event (nothing to send)
  std::uint64_t orphan_eoe = 0;     // EOE for a key neither open nor remembered (nothing to send)
};

// Receives each completed event. The event is only valid during the call.
using EventHandler = std::function<void(const Event&)>;

// Which completion rule applies to a record type (see the file comment).
enum class TypeRule : std::uint8_t { end_of_event, ignored, terminal, wait_for_eoe };
TypeRule completion_rule(std::uint32_t type);

class EventAssembler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  EventAssembler(AssemblerConfig config, EventHandler handler);
  ~EventAssembler();
  EventAssembler(const EventAssembler&) = delete;
  EventAssembler& operator=(const EventAssembler&) = delete;

  // Adds one record; `now` is the caller's clock (wall clock live, a fake one in tests). The
  // record's views are only read during the call (what is kept is copied). add() never expires
  // events by time: call expire(now) after each batch and on an idle timer.
  void add(const RecordView& record, TimePoint now);
  // Completes events whose first record arrived eoe_timeout or longer before `now`, oldest first.
  // O(1) when nothing expires.
  void expire(TimePoint now);
  // Completes every open event (end of input, shutdown), oldest first.
  void flush();

  std::size_t in_flight() const;
  const AssemblerCounters& counters() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace aurelay::correlate
