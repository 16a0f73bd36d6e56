// An audit event: the records that share one (node, sec, msec, serial) key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/process_context.h"
#include "correlate/record.h"

namespace aurelay::correlate {

enum class Completion : std::uint8_t {
  eoe,           // the EOE record arrived
  terminal,      // a record type that always stands alone (user messages, 1100-1299, >= 2100)
  timeout,       // no EOE within eoe_timeout on the caller's clock
  overflow,      // more than max_in_flight events were open: the oldest was completed
  end_of_input,  // flush() at end of input or shutdown
};

std::string_view to_string(Completion completion);

// An event owns the text of its records (bodies back to back in one buffer). Events are pooled
// by the assembler and reused, so their buffers keep their capacity, up to what an ordinary
// event needs (give_back_large_buffers).
class Event {
 public:
  struct Record {
    std::uint32_t type;
    std::uint32_t offset;
    std::uint32_t size;
  };

  const EventKey& key() const { return key_; }
  Completion completion() const { return completion_; }
  // Records that arrived after their event id had been emitted (a user message is emitted at
  // once; the SYSCALL ... EOE its sender's audited syscall makes come after it), grouped by the
  // usual rules into one continuation event.
  bool is_continuation() const { return continuation_; }

  std::size_t record_count() const { return records_.size(); }
  std::uint32_t record_type(std::size_t i) const { return records_[i].type; }
  std::string_view record_body(std::size_t i) const {
    return std::string_view(text_).substr(records_[i].offset, records_[i].size);
  }
  // What the reader found in /proc about the process of the event's SYSCALL record, or null.
  const ProcessContext* process_context() const { return has_context_ ? &context_ : nullptr; }
  // Index of the first record of `type`, or record_count() when there is none.
  std::size_t find(std::uint32_t type) const {
    for (std::size_t i = 0; i < records_.size(); ++i)
      if (records_[i].type == type) return i;
    return records_.size();
  }

  // --- building (assembler and tests) ---
  void reset(const EventKey& key) {
    node_.assign(key.node);
    key_ = key;
    key_.node = node_;
    text_.clear();
    records_.clear();
    completion_ = Completion::end_of_input;
    continuation_ = false;
    has_context_ = false;
  }
  void add_record(std::uint32_t type, std::string_view body,
                  const ProcessContext* context = nullptr) {
    records_.push_back(Record{type, static_cast<std::uint32_t>(text_.size()),
                              static_cast<std::uint32_t>(body.size())});
    text_.append(body);
    if (context != nullptr && !has_context_) {
      context_ = *context;
      has_context_ = true;
    }
  }
  void set_completion(Completion completion) { completion_ = completion; }
  // Frees the buffers a large event grew (a 100 KB EXECVE) when they hold more than
  // `max_kept_bytes`, so a pooled event keeps only what ordinary events need.
  void give_back_large_buffers(std::size_t max_kept_bytes) {
    if (text_.capacity() > max_kept_bytes) std::string().swap(text_);
    if (records_.capacity() * sizeof(Record) > max_kept_bytes) std::vector<Record>().swap(records_);
  }
  void set_continuation(bool continuation) { continuation_ = continuation; }

 private:
  EventKey key_;
  std::string node_;
  std::string text_;
  std::vector<Record> records_;
  Completion completion_ = Completion::end_of_input;
  bool continuation_ = false;
  bool has_context_ = false;
  ProcessContext context_;
};

}  // namespace aurelay::correlate
