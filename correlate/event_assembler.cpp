// STUB: replaced by the event assembler implementation.
#include "correlate/event_assembler.h"

namespace aurelay::correlate {
std::string_view to_string(Completion) { return "stub"; }
struct EventAssembler::State {
  AssemblerCounters counters;
};
EventAssembler::EventAssembler(AssemblerConfig, EventHandler) : state_(new State) {}
EventAssembler::~EventAssembler() = default;
void EventAssembler::add(const RecordView&, TimePoint) {}
void EventAssembler::expire(TimePoint) {}
void EventAssembler::flush() {}
std::size_t EventAssembler::in_flight() const { return 0; }
const AssemblerCounters& EventAssembler::counters() const { return state_->counters; }
}  // namespace aurelay::correlate
