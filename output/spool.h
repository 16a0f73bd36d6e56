// Disk spool: append-only segment files of framed records, read back oldest first.
//
// A segment is `<dir>/<20-digit id>.spool`. Each record is framed as
//   u32 magic 'AUSP' | u32 payload length | u32 items | u32 crc32(items, payload) | payload
// (little endian). `items` is what the record holds (documents, for HttpSink) so drops can be
// counted in documents. Records are read in append order; a record read is "outstanding" until
// ack()ed, and a segment file is deleted once it is fully read and all its records are acked. A
// record read but never acked (crash) is read again by the next process: at-least-once.
//
// Segments left by a previous run are read first. A record whose frame or CRC is wrong (crash
// mid-write, disk trouble) ends its segment: the rest of that segment is skipped and counted.
// Single-threaded: owned by the shipper.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "base/choice.h"
#include "base/result.h"

namespace aurelay::output {

// The values of the options spool_full_action and spool_fsync (parsed by the option table).
enum class SpoolFullAction : std::uint8_t {
  drop_oldest,  // delete the oldest segment to make room
  drop_newest,  // refuse the new batch
};
inline constexpr std::array kSpoolFullActionNames = {
    ChoiceName<SpoolFullAction>{"drop_oldest", SpoolFullAction::drop_oldest},
    ChoiceName<SpoolFullAction>{"drop_newest", SpoolFullAction::drop_newest},
};
inline constexpr std::string_view kSpoolFullActionChoices = "drop_oldest|drop_newest";
inline constexpr SpoolFullAction kDefaultSpoolFullAction = SpoolFullAction::drop_oldest;
static_assert(choices_list_names(kSpoolFullActionChoices, kSpoolFullActionNames));

enum class SpoolFsync : std::uint8_t {
  always,  // fdatasync after every record (safest, slowest)
  batch,   // fdatasync when sync() is called (HttpSink: once per poll round) and on rotation
  never,   // leave it to the kernel
};
inline constexpr std::array kSpoolFsyncNames = {
    ChoiceName<SpoolFsync>{"always", SpoolFsync::always},
    ChoiceName<SpoolFsync>{"batch", SpoolFsync::batch},
    ChoiceName<SpoolFsync>{"never", SpoolFsync::never},
};
inline constexpr std::string_view kSpoolFsyncChoices = "always|batch|never";
inline constexpr SpoolFsync kDefaultSpoolFsync = SpoolFsync::batch;
static_assert(choices_list_names(kSpoolFsyncChoices, kSpoolFsyncNames));

// Default of spool_max_bytes (the option table and every sink's config): 1 GiB.
inline constexpr std::uint64_t kDefaultSpoolMaxBytes = 1ull << 30;

struct SpoolConfig {
  std::string dir;                                  // created (0700) when missing
  std::uint64_t max_bytes = kDefaultSpoolMaxBytes;  // spool_max_bytes
  std::uint64_t segment_max_bytes = 16ull << 20;    // rotate after 16 MiB (<= max_bytes/4)
  SpoolFullAction full_action = kDefaultSpoolFullAction;
  SpoolFsync fsync = kDefaultSpoolFsync;
};

struct SpoolCounters {
  std::uint64_t bytes = 0;     // on disk now (all segments)
  std::uint64_t segments = 0;  // segment files now
  std::uint64_t records_appended = 0;
  std::uint64_t items_appended = 0;
  std::uint64_t records_read = 0;
  std::uint64_t corrupt_records = 0;  // bad frame/CRC/truncated tail: rest of segment skipped
  std::uint64_t corrupt_bytes = 0;    // bytes skipped because of them
  std::uint64_t dropped_records = 0;  // spool full (either action)
  std::uint64_t dropped_items = 0;
  std::uint64_t write_errors = 0;
};

struct SpoolRecord {
  std::uint64_t segment_id = 0;  // pass to ack()
  std::uint32_t items = 0;
  std::string payload;
};

enum class SpoolAppendResult : std::uint8_t {
  appended,
  appended_after_dropping_oldest,
  dropped_newest,  // spool full and drop_newest (or nothing old enough to drop)
  io_error,        // last_error() says why
};

class Spool {
 public:
  explicit Spool(SpoolConfig config);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Creates the directory and indexes the segments left by a previous run. On failure the spool
  // is unusable.
  Status open();
  bool is_open() const { return open_; }

  // Appends one record whose payload is `head` followed by `body`.
  SpoolAppendResult append(std::uint32_t items, std::string_view head, std::string_view body);

  // Reads the next record not read yet into `record`; false when there is none.
  bool read_next(SpoolRecord& record);
  // The record read from `segment_id` was delivered (or dropped for good).
  void ack(std::uint64_t segment_id);
  // Records not read yet (approximate for segments of a previous run until read).
  bool has_unread() const;
  std::uint64_t unread_items() const;
  // Records read and not acked.
  std::uint64_t outstanding() const;
  bool empty() const { return segments_.empty(); }

  // fdatasync of the segment being written (policy batch); no-op when nothing is dirty.
  void sync();

  const SpoolCounters& counters() const { return counters_; }
  const std::string& last_error() const { return last_error_; }
  const SpoolConfig& config() const { return config_; }

 private:
  struct Segment {
    std::uint64_t id = 0;
    std::uint64_t bytes = 0;  // file size (bytes written, for the active one)
    std::uint64_t unread_records = 0;
    std::uint64_t unread_items = 0;
    std::uint64_t outstanding = 0;  // read, not acked
    bool fully_read = false;
  };

  std::string segment_path(std::uint64_t id) const;
  bool start_segment();
  void seal_active();
  void index_segment(Segment& segment);
  void remove_segment_at(std::size_t index, bool count_as_dropped);
  void maybe_remove_finished();
  Segment* find(std::uint64_t id);
  bool make_room(std::uint64_t record_bytes);

  SpoolConfig config_;
  bool open_ = false;
  std::deque<Segment> segments_;  // oldest first
  std::uint64_t next_id_ = 1;
  int write_fd_ = -1;  // active segment = segments_.back() when >= 0
  bool dirty_ = false;
  int read_fd_ = -1;
  std::uint64_t read_segment_ = 0;  // id of the segment read_fd_ reads
  std::uint64_t read_offset_ = 0;
  SpoolCounters counters_;
  std::string last_error_;
};

}  // namespace aurelay::output
