// Event assembler: open events live in pooled slots found through an open-addressing table keyed
// by a hash of (node, sec, msec, serial); an intrusive list keeps them in arrival order, so the
// oldest is at the head for both the timeout and the overflow rule. Completed keys are remembered
// in a fixed ring (with its own table) to recognise late records. Nothing on the hot path
// allocates once the pool, the tables and the events' buffers have grown to the working set.
#include "correlate/event_assembler.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace aurelay::correlate {

std::string_view to_string(Completion completion) {
  switch (completion) {
    case Completion::eoe:
      return "eoe";
    case Completion::terminal:
      return "terminal";
    case Completion::timeout:
      return "timeout";
    case Completion::overflow:
      return "overflow";
    case Completion::end_of_input:
      return "end_of_input";
  }
  return "unknown";
}

TypeRule completion_rule(std::uint32_t type) {
  if (type == kTypeEoe) return TypeRule::end_of_event;
  if (type == kTypeReplace) return TypeRule::ignored;
  if (type == kTypeLogin) return TypeRule::wait_for_eoe;
  if (type >= 1300 && type <= 2099) return TypeRule::wait_for_eoe;
  // 1005 (AUDIT_USER), 1100-1299 (user space), >= 2100 (user space anomalies, responses, ...) and
  // the rest of the < 1300 block (daemon/control numbers) stand alone.
  return TypeRule::terminal;
}

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// A pooled event keeps buffers up to this size; a larger event's are freed once it is emitted.
// Thousands of events can be open at once (a log without EOE keeps max_in_flight open), and a
// slot that once held a 100 KB EXECVE event would otherwise keep that buffer for good.
constexpr std::size_t kKeptEventBytes = 1024;

std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// 32 bits: the index entries stay 8 bytes (the keys themselves settle any collision).
std::uint32_t hash_key(const EventKey& key) {
  std::uint64_t node_hash = 0;
  if (!key.node.empty()) {
    node_hash = 0xcbf29ce484222325ULL;  // FNV-1a
    for (unsigned char c : key.node) node_hash = (node_hash ^ c) * 0x100000001b3ULL;
  }
  std::uint64_t h = mix64(key.serial ^ 0x9e3779b97f4a7c15ULL);
  h = mix64(h ^ (key.sec * 1000 + key.msec));
  h = mix64(h ^ node_hash);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::size_t table_capacity_for(std::size_t entries) {
  std::size_t capacity = 16;
  while (capacity < entries * 2) capacity <<= 1;
  return capacity;
}

// Linear-probing hash table from a 32-bit hash to a 32-bit value; the caller resolves hash
// collisions by comparing full keys through `matches(value)`. Erase shifts back, no tombstones.
// The table holds up to `max_entries` at half load at most. It starts small and doubles as
// entries are added, and returns to its first size whenever it empties: under a storm an event
// or two are open at a time, and probing a table sized for thousands would miss the cache on
// every record. Positions stay valid until the next insert.
class HashIndex {
 public:
  explicit HashIndex(std::size_t max_entries) : max_capacity_(table_capacity_for(max_entries)) {
    entries_.assign(std::min(kFirstCapacity, max_capacity_), Entry{});
    mask_ = entries_.size() - 1;
  }

  template <typename Matches>
  std::size_t find(std::uint32_t hash, Matches&& matches) const {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.value == kNone) return kNotFound;
      if (e.hash == hash && matches(e.value)) return i;
    }
  }
  std::uint32_t value_at(std::size_t position) const { return entries_[position].value; }
  // Starts loading the slot where the search for `hash` begins. Always inlined: GCC counts a
  // prefetch as free of side effects, and deletes a call to a function that only prefetches.
  [[gnu::always_inline]] void prefetch(std::uint32_t hash) const {
    __builtin_prefetch(&entries_[hash & mask_]);
  }

  void insert(std::uint32_t hash, std::uint32_t value) {
    if ((count_ + 1) * 2 > entries_.size() && entries_.size() < max_capacity_)
      rebuild(entries_.size() * 2);
    place(Entry{hash, value});
    ++count_;
  }

  void erase_at(std::size_t hole) {
    for (std::size_t j = (hole + 1) & mask_; entries_[j].value != kNone; j = (j + 1) & mask_) {
      std::size_t home = entries_[j].hash & mask_;
      // Move entry j into the hole when its home is not cyclically within (hole, j].
      bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_in_range) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole] = Entry{};
    if (--count_ == 0 && entries_.size() > kFirstCapacity) {
      entries_.assign(kFirstCapacity, Entry{});  // keeps the allocation; only the start is used
      mask_ = kFirstCapacity - 1;
    }
  }

  static constexpr std::size_t kNotFound = std::numeric_limits<std::size_t>::max();

 private:
  static constexpr std::size_t kFirstCapacity = 16;
  struct Entry {
    std::uint32_t hash = 0;
    std::uint32_t value = kNone;
  };
  void place(Entry entry) {
    std::size_t i = entry.hash & mask_;
    while (entries_[i].value != kNone) i = (i + 1) & mask_;
    entries_[i] = entry;
  }
  void rebuild(std::size_t capacity) {
    std::vector<Entry> old;
    old.swap(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    for (const Entry& e : old)
      if (e.value != kNone) place(e);
  }
  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
  std::size_t max_capacity_;
};

bool same_key(const EventKey& a, const EventKey& b) {
  return a.serial == b.serial && a.sec == b.sec && a.msec == b.msec && a.node == b.node;
}

}  // namespace

struct EventAssembler::State {
  struct Slot {
    Event event;
    TimePoint first_arrival{};
    std::uint32_t hash = 0;
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
  };
  struct RememberedKey {  // 56 bytes
    std::uint64_t sec = 0;
    std::uint64_t serial = 0;
    std::string node;
    std::uint32_t msec = 0;
    std::uint32_t hash = 0;
    EventKey key() const { return EventKey{sec, msec, serial, node}; }
  };

  State(AssemblerConfig c, EventHandler h, AssemblerStats* external_stats)
      : config(c),
        handler(std::move(h)),
        stats(external_stats),
        open_index(std::max<std::size_t>(c.max_in_flight, 1)),
        remembered_index(std::max<std::size_t>(c.remembered_completed, 1)) {
    config.max_in_flight = std::max<std::size_t>(config.max_in_flight, 1);
    remembered.resize(config.remembered_completed);
  }

  AssemblerConfig config;
  EventHandler handler;
  StatsStorage<AssemblerStats> stats;
  std::uint64_t records_accepted = 0;

  std::vector<std::unique_ptr<Slot>> slots;  // grows to the largest number in flight
  std::vector<std::uint32_t> free_slots;
  HashIndex open_index;
  std::uint32_t oldest = kNone;  // arrival-ordered list of open slots
  std::uint32_t newest = kNone;
  std::size_t open_count = 0;

  std::vector<RememberedKey> remembered;  // ring of the last completed keys
  std::size_t remembered_next = 0;
  std::size_t remembered_count = 0;
  std::uint64_t highest_remembered_serial = 0;  // of every key ever remembered
  HashIndex remembered_index;

  Event scratch;  // terminal records never enter the open table

  std::size_t find_open(std::uint32_t hash, const EventKey& key) const {
    return open_index.find(
        hash, [&](std::uint32_t slot) { return same_key(slots[slot]->event.key(), key); });
  }
  bool is_remembered(std::uint32_t hash, const EventKey& key) const {
    // The kernel numbers events in order: a new event's serial is above every remembered one,
    // and then it needs no lookup.
    if (remembered_count == 0 || key.serial > highest_remembered_serial) return false;
    return remembered_index.find(hash, [&](std::uint32_t i) {
      return same_key(remembered[i].key(), key);
    }) != HashIndex::kNotFound;
  }

  // The remembered-key index is large and its slots are random: the two that remember() will
  // touch (the new key's and the evicted key's) are fetched into the cache while the handler
  // encodes the event, instead of stalling on each afterwards.
  [[gnu::always_inline]] void prepare_to_remember(std::uint32_t hash) const {
    if (remembered.empty()) return;
    remembered_index.prefetch(hash);
    if (remembered_count == remembered.size())
      remembered_index.prefetch(remembered[remembered_next].hash);
  }
  void remember(std::uint32_t hash, const EventKey& key) {
    if (remembered.empty()) return;
    RememberedKey& entry = remembered[remembered_next];
    if (remembered_count == remembered.size()) {
      std::size_t position = remembered_index.find(entry.hash, [&](std::uint32_t i) {
        return i == static_cast<std::uint32_t>(remembered_next);
      });
      if (position != HashIndex::kNotFound) remembered_index.erase_at(position);
    } else {
      ++remembered_count;
    }
    entry.sec = key.sec;
    entry.msec = key.msec;
    entry.serial = key.serial;
    highest_remembered_serial = std::max(highest_remembered_serial, key.serial);
    entry.node.assign(key.node);
    entry.hash = hash;
    remembered_index.insert(hash, static_cast<std::uint32_t>(remembered_next));
    remembered_next = (remembered_next + 1) % remembered.size();
  }

  void count_completion(Completion completion) {
    increment(stats->events_completed);
    switch (completion) {
      case Completion::eoe:
        increment(stats->events_by_eoe);
        break;
      case Completion::terminal:
        increment(stats->events_by_terminal);
        break;
      case Completion::timeout:
        increment(stats->events_timed_out);
        break;
      case Completion::overflow:
        increment(stats->events_evicted);
        break;
      case Completion::end_of_input:
        increment(stats->events_at_end_of_input);
        break;
    }
  }

  std::uint32_t allocate_slot() {
    if (!free_slots.empty()) {
      std::uint32_t slot = free_slots.back();
      free_slots.pop_back();
      return slot;
    }
    slots.push_back(std::make_unique<Slot>());
    return static_cast<std::uint32_t>(slots.size() - 1);
  }

  void unlink(std::uint32_t index) {
    Slot& slot = *slots[index];
    if (slot.prev != kNone)
      slots[slot.prev]->next = slot.next;
    else
      oldest = slot.next;
    if (slot.next != kNone)
      slots[slot.next]->prev = slot.prev;
    else
      newest = slot.prev;
    slot.prev = slot.next = kNone;
  }

  void open(std::uint32_t index, std::uint32_t hash, TimePoint now) {
    Slot& slot = *slots[index];
    slot.first_arrival = now;
    slot.hash = hash;
    slot.prev = newest;
    slot.next = kNone;
    if (newest != kNone)
      slots[newest]->next = index;
    else
      oldest = index;
    newest = index;
    open_index.insert(hash, index);
    ++open_count;
    set(stats->events_in_flight, static_cast<std::int64_t>(open_count));
  }

  // Completes the open event in `index` (whose table position is `position`, or kNotFound to
  // look it up), emits it and returns its slot to the pool.
  void complete(std::uint32_t index, std::size_t position, Completion completion) {
    Slot& slot = *slots[index];
    if (position == HashIndex::kNotFound)
      position = open_index.find(slot.hash, [&](std::uint32_t v) { return v == index; });
    open_index.erase_at(position);
    unlink(index);
    --open_count;
    set(stats->events_in_flight, static_cast<std::int64_t>(open_count));
    free_slots.push_back(index);
    const bool remembers = !slot.event.is_continuation();
    if (remembers) prepare_to_remember(slot.hash);
    slot.event.set_completion(completion);
    count_completion(completion);
    handler(slot.event);
    if (remembers) remember(slot.hash, slot.event.key());
    slot.event.give_back_large_buffers(kKeptEventBytes);
  }

  void emit_alone(const RecordView& record, std::uint32_t hash, bool continuation) {
    scratch.reset(record.key);
    scratch.add_record(record.type, record.body, record.context);
    scratch.set_completion(Completion::terminal);
    scratch.set_continuation(continuation);
    count_completion(Completion::terminal);
    if (!continuation) prepare_to_remember(hash);
    handler(scratch);
    if (!continuation) remember(hash, scratch.key());
    scratch.give_back_large_buffers(kKeptEventBytes);
  }
};

EventAssembler::EventAssembler(AssemblerConfig config, EventHandler handler, AssemblerStats* stats)
    : state_(std::make_unique<State>(config, std::move(handler), stats)) {}

EventAssembler::~EventAssembler() = default;

void EventAssembler::add(const RecordView& record, TimePoint now) {
  State& s = *state_;
  const TypeRule rule = completion_rule(record.type);
  if (rule == TypeRule::ignored) {
    increment(s.stats->correlator_replace_ignored);
    return;
  }
  ++s.records_accepted;
  const std::uint32_t hash = hash_key(record.key);
  const std::size_t position = s.find_open(hash, record.key);

  if (rule == TypeRule::end_of_event) {
    if (position != HashIndex::kNotFound)
      s.complete(s.open_index.value_at(position), position, Completion::eoe);
    else if (s.is_remembered(hash, record.key))
      increment(s.stats->late_eoe);
    else
      increment(s.stats->orphan_eoe);
    return;
  }

  if (position != HashIndex::kNotFound) {
    std::uint32_t index = s.open_index.value_at(position);
    Event& event = s.slots[index]->event;
    if (event.is_continuation()) increment(s.stats->late_records);
    event.add_record(record.type, record.body, record.context);
    if (rule == TypeRule::terminal) s.complete(index, position, Completion::terminal);
    return;
  }

  const bool continuation = s.is_remembered(hash, record.key);
  if (continuation) {
    increment(s.stats->late_records);
    increment(s.stats->continuation_events);
  }
  if (rule == TypeRule::terminal) {
    s.emit_alone(record, hash, continuation);
    return;
  }

  while (s.open_count >= s.config.max_in_flight)
    s.complete(s.oldest, HashIndex::kNotFound, Completion::overflow);
  std::uint32_t index = s.allocate_slot();
  Event& event = s.slots[index]->event;
  event.reset(record.key);
  event.set_continuation(continuation);
  event.add_record(record.type, record.body, record.context);
  s.open(index, hash, now);
}

void EventAssembler::expire(TimePoint now) {
  State& s = *state_;
  while (s.oldest != kNone && now - s.slots[s.oldest]->first_arrival >= s.config.eoe_timeout)
    s.complete(s.oldest, HashIndex::kNotFound, Completion::timeout);
}

void EventAssembler::flush() {
  State& s = *state_;
  while (s.oldest != kNone) s.complete(s.oldest, HashIndex::kNotFound, Completion::end_of_input);
}

std::size_t EventAssembler::in_flight() const { return state_->open_count; }

const AssemblerStats& EventAssembler::stats() const { return *state_->stats; }

std::uint64_t EventAssembler::records_accepted() const { return state_->records_accepted; }

}  // namespace aurelay::correlate
