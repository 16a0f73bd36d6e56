// The details of the document being built: a value per key (the first value of a key wins; a
// different later one is kept in `extra` as TYPE.field=value), the set of keys that have one,
// and the lists paths, nametypes and extra. Values are views of the event's own text or of
// memory that outlives the document, or ranges of an arena reused for every document (so the
// steady state allocates nothing). Inline: it runs per field of every record.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/record.h"
#include "mozdef/decimal.h"
#include "mozdef/details.h"
#include "mozdef/encoder.h"

namespace aurelay::mozdef {

// Appends a record type's name, or "UNKNOWN[1234]" for a number libaudit does not name.
inline void append_record_type_name(std::string& out, std::uint32_t type) {
  const std::string_view name = correlate::record_type_name(type);
  if (!name.empty()) {
    out.append(name);
    return;
  }
  out.append("UNKNOWN[");
  append_decimal(out, type);
  out.push_back(']');
}

// A value of this document: a view into the event's own text (which outlives the encoding), or a
// range of DetailsStore::arena (values made here: decoded, names, joined), by offset since the
// arena may grow.
struct ValueRef {
  const char* text = nullptr;  // where the value lies (the event's text, or memory that outlives
                               // the document); nullptr: in the arena at `offset`
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

// Which details keys have a value: a bit per key, walked in key order by for_each.
struct KeySet {
  static constexpr std::size_t kWords = (kDetailKeyCount + 63) / 64;
  std::array<std::uint64_t, kWords> words{};
  bool test(std::size_t i) const { return (words[i / 64] >> (i % 64) & 1) != 0; }
  void set(std::size_t i) { words[i / 64] |= std::uint64_t{1} << (i % 64); }
  void reset() { words.fill(0); }
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t w = 0; w < kWords; ++w)
      for (std::uint64_t bits = words[w]; bits != 0; bits &= bits - 1)
        visit(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
  }
};

struct DetailsStore {
  explicit DetailsStore(EncoderStats& stats) : stats(stats) {}

  // The details of the document being built: every value is copied into `arena` (reused, so
  // the steady state allocates nothing) and referenced by offset.
  std::string arena;
  std::string_view event_text;  // all record bodies of the event being encoded (contiguous)
  std::array<ValueRef, kDetailKeyCount> values{};
  KeySet present;
  std::vector<ValueRef> paths, nametypes, extra;
  EncoderStats& stats;  // extra_fields

  // Forgets the last document's details; `text` holds every record body of the next event.
  void clear(std::string_view text) {
    arena.clear();
    event_text = text;
    present.reset();
    paths.clear();
    nametypes.clear();
    extra.clear();
  }

  std::string_view view(ValueRef ref) const {
    if (ref.text != nullptr) return std::string_view(ref.text, ref.size);
    return std::string_view(arena).substr(ref.offset, ref.size);
  }
  // Keeps `value` for the document: a view when it lies in the event's text, else a copy.
  ValueRef store(std::string_view value) {
    const auto size = static_cast<std::uint32_t>(value.size());
    if (value.data() >= event_text.data() &&
        value.data() + size <= event_text.data() + event_text.size())
      return ValueRef{value.data(), 0, size};
    return store_copy(value);
  }
  // (The less common paths are functions of their own, so the common ones stay small.)
  [[gnu::noinline]] ValueRef store_copy(std::string_view value) {
    ValueRef ref{nullptr, static_cast<std::uint32_t>(arena.size()),
                 static_cast<std::uint32_t>(value.size())};
    arena.append(value);
    return ref;
  }
  bool has(DetailKey key) const { return present.test(static_cast<std::size_t>(key)); }
  std::string_view get(DetailKey key) const {
    return has(key) ? view(values[static_cast<std::size_t>(key)]) : std::string_view();
  }
  // Keeps "TYPE.field=value" in `extra`.
  void add_extra(std::uint32_t type, std::string_view field, std::string_view value,
                 std::string_view item = {}) {
    ValueRef ref{nullptr, static_cast<std::uint32_t>(arena.size()), 0};
    append_record_type_name(arena, type);
    arena.append(item);
    arena.push_back('.');
    arena.append(field);
    arena.push_back('=');
    arena.append(value);
    ref.size = static_cast<std::uint32_t>(arena.size() - ref.offset);
    extra.push_back(ref);
    increment(stats.extra_fields);
  }
  // Sets `key` to `value` unless it has one: an equal second value is dropped, a different one
  // is kept in `extra` under its record type and field name.
  void set(DetailKey key, std::string_view value, std::uint32_t type, std::string_view field) {
    auto index = static_cast<std::size_t>(key);
    if (claim(index))
      values[index] = store(value);
    else
      set_again(index, value, type, field);
  }
  // The first value of a key wins: true (and the key marked present) when `index` has none yet,
  // and the caller stores it; false when it has one (the caller calls set_again).
  bool claim(std::size_t index) {
    if (present.test(index)) return false;
    present.set(index);
    return true;
  }
  // set() for the value just appended to the arena from `from` on (made in place, not copied).
  void set_from_arena(DetailKey key, std::size_t from, std::uint32_t type, std::string_view field,
                      std::string& scratch) {
    auto index = static_cast<std::size_t>(key);
    const auto size = static_cast<std::uint32_t>(arena.size() - from);
    if (claim(index)) {
      values[index] = ValueRef{nullptr, static_cast<std::uint32_t>(from), size};
      return;
    }
    scratch.assign(arena, from, size);  // add_extra appends to the arena: compare a copy
    arena.resize(from);
    set_again(index, scratch, type, field);
  }
  // set() for a value that outlives the document (a literal, a name from libaudit's tables, the
  // event's own text, the encoder's remembered type list): kept as a view, never copied.
  void set_lasting(DetailKey key, std::string_view value, std::uint32_t type,
                   std::string_view field) {
    auto index = static_cast<std::size_t>(key);
    if (claim(index))
      values[index] = ValueRef{value.data(), 0, static_cast<std::uint32_t>(value.size())};
    else
      set_again(index, value, type, field);
  }
  [[gnu::noinline]] void set_again(std::size_t index, std::string_view value, std::uint32_t type,
                                   std::string_view field) {
    if (view(values[index]) != value) add_extra(type, field, value);
  }
};

}  // namespace aurelay::mozdef
