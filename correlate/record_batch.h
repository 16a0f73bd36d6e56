// A batch of raw records handed from a reader thread to the correlator thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/process_context.h"

namespace aurelay::correlate {

// Records stored back to back in one byte slab. Batches are recycled: clear() keeps capacity,
// so the steady state allocates nothing.
class RecordBatch {
 public:
  // type 0 marks an auditd log line (the type is inside the text); other values are netlink
  // message types whose text is a netlink payload.
  static constexpr std::uint32_t kLogLine = 0;

  struct Entry {
    std::uint32_t type;
    std::uint32_t offset;
    std::uint32_t size;
    std::uint32_t context;  // index in contexts_, or kNoContext
  };
  static constexpr std::uint32_t kNoContext = UINT32_MAX;

  void clear() {
    bytes_.clear();
    entries_.clear();
    contexts_.clear();
  }
  // clear(), and lets the buffers go (after a burst).
  void release() {
    clear();
    bytes_.shrink_to_fit();
    entries_.shrink_to_fit();
    contexts_.shrink_to_fit();
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::size_t byte_size() const { return bytes_.size(); }
  // Bytes the batch holds allocated (text and index), whatever it holds now.
  std::size_t byte_capacity() const {
    return bytes_.capacity() + entries_.capacity() * sizeof(Entry) +
           contexts_.capacity() * sizeof(ProcessContext);
  }

  void append(std::uint32_t type, std::string_view text) {
    entries_.push_back(Entry{type, static_cast<std::uint32_t>(bytes_.size()),
                             static_cast<std::uint32_t>(text.size()), kNoContext});
    bytes_.append(text);
  }

  // The process context of record `i` (live SYSCALL records; see process_context.h).
  void attach_context(std::size_t i, const ProcessContext& context) {
    entries_[i].context = static_cast<std::uint32_t>(contexts_.size());
    contexts_.push_back(context);
  }
  const ProcessContext* context(std::size_t i) const {
    const std::uint32_t index = entries_[i].context;
    return index == kNoContext ? nullptr : &contexts_[index];
  }

  std::uint32_t type(std::size_t i) const { return entries_[i].type; }
  std::string_view text(std::size_t i) const {
    return std::string_view(bytes_).substr(entries_[i].offset, entries_[i].size);
  }

  // Room for `bytes` of record text, so a batch filled up to a known size never reallocates.
  void reserve_bytes(std::size_t bytes) { bytes_.reserve(bytes); }

 private:
  std::string bytes_;
  std::vector<Entry> entries_;
  std::vector<ProcessContext> contexts_;
};

}  // namespace aurelay::correlate
