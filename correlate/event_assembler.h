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

#include "base/stats.h"
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

// clang-format off
#define AURELAY_ASSEMBLER_STATS(COUNTER, GAUGE)                                                   \
  COUNTER(correlator_replace_ignored, "replace records ignored by correlator", "AUDIT_REPLACE records dropped by the correlator") \
  COUNTER(events_completed, "events completed", "Events completed, all reasons")               \
  COUNTER(events_by_eoe, "events completed by EOE", "Events completed by their EOE record")    \
  COUNTER(events_by_terminal, "events completed by terminal record", "Events completed by a record that ends its event") \
  COUNTER(events_timed_out, "events timed out", "Events completed by eoe_timeout_ms")          \
  COUNTER(events_evicted, "events evicted (too many in flight)", "Events completed early because too many were in flight") \
  COUNTER(events_at_end_of_input, "events completed at end of input", "Events completed because the input ended") \
  COUNTER(late_records, "late records", "Records for an event already emitted (sent as continuations)") \
  COUNTER(late_eoe, "late EOE records", "EOE records for an event already emitted")            \
  COUNTER(orphan_eoe, "orphan EOE records", "EOE records for an event never seen")             \
  COUNTER(continuation_events, "continuation events", "Events of records that came after their event was emitted") \
  GAUGE(events_in_flight, "events in flight", "Events waiting for more records")
// clang-format on

// events_completed counts every event emitted (continuations included); late_eoe and orphan_eoe
// EOE records have nothing to send.
struct AssemblerStats {
  AURELAY_STATS_MEMBERS(AURELAY_ASSEMBLER_STATS)
};

// Receives each completed event. The event is only valid during the call.
using EventHandler = std::function<void(const Event&)>;

// Which completion rule applies to a record type (see the file comment).
enum class TypeRule : std::uint8_t { end_of_event, ignored, terminal, wait_for_eoe };
TypeRule completion_rule(std::uint32_t type);

class EventAssembler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Counts into `stats` when given (the daemon's Metrics), otherwise into its own.
  EventAssembler(AssemblerConfig config, EventHandler handler, AssemblerStats* stats = nullptr);
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
  const AssemblerStats& stats() const;
  // Records accepted (EOE included, AUDIT_REPLACE not).
  std::uint64_t records_accepted() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace aurelay::correlate
