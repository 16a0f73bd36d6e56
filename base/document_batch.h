// Encoded MozDef documents travelling from the correlator to a sink, in one buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aurelay {

// Documents stored back to back, each followed by '\n' (so `data()` is NDJSON as it is).
// Recycled between the correlator and the shipper: clear() keeps capacity.
class DocumentBatch {
 public:
  void clear() {
    data_.clear();
    ends_.clear();
    oldest_event_ms_ = 0;
  }
  // clear(), and lets the buffers go (after a burst).
  void release() {
    clear();
    data_.shrink_to_fit();
    ends_.shrink_to_fit();
  }
  bool empty() const { return ends_.empty(); }
  std::size_t count() const { return ends_.size(); }
  std::size_t byte_size() const { return data_.size(); }
  // Room the document buffer holds (what a burst grew it to).
  std::size_t byte_capacity() const { return data_.capacity(); }
  const std::string& data() const { return data_; }

  // Document i without its trailing newline.
  std::string_view document(std::size_t i) const {
    std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_).substr(begin, ends_[i] - begin - 1);
  }

  // The encoder appends straight into the buffer, then calls end_document().
  std::string& buffer() { return data_; }
  void end_document(std::uint64_t event_time_ms) {
    data_.push_back('\n');
    ends_.push_back(data_.size());
    if (oldest_event_ms_ == 0 || event_time_ms < oldest_event_ms_) oldest_event_ms_ = event_time_ms;
  }

  // Event time (ms since epoch) of the oldest document, for delivery latency.
  std::uint64_t oldest_event_ms() const { return oldest_event_ms_; }

 private:
  std::string data_;
  std::vector<std::size_t> ends_;
  std::uint64_t oldest_event_ms_ = 0;
};

}  // namespace aurelay
