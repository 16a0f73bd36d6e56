#include "output/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace aurelay::output {

namespace {

constexpr std::uint32_t kMagic = 0x50535541;  // "AUSP" little endian
constexpr std::size_t kHeaderBytes = 16;
constexpr std::uint32_t kMaxPayload = 1u << 30;

void put_u32(unsigned char* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}
std::uint32_t get_u32(const unsigned char* in) {
  return std::uint32_t(in[0]) | std::uint32_t(in[1]) << 8 | std::uint32_t(in[2]) << 16 |
         std::uint32_t(in[3]) << 24;
}

std::uint32_t crc_of(std::uint32_t items, std::string_view a, std::string_view b) {
  unsigned char items_le[4];
  put_u32(items_le, items);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, items_le, 4);
  // zlib takes uInt lengths: feed large parts in chunks.
  for (std::string_view part : {a, b}) {
    while (!part.empty()) {
      std::size_t n = std::min<std::size_t>(part.size(), 1u << 30);
      crc = crc32(crc, reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(n));
      part.remove_prefix(n);
    }
  }
  return static_cast<std::uint32_t>(crc);
}

bool pread_all(int fd, void* buffer, std::size_t size, std::uint64_t offset) {
  auto* out = static_cast<char*>(buffer);
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Spool::Spool(SpoolConfig config) : config_(std::move(config)) {
  if (config_.max_bytes < 4096) config_.max_bytes = 4096;
  config_.segment_max_bytes =
      std::max<std::uint64_t>(1024, std::min(config_.segment_max_bytes, config_.max_bytes / 4));
}

Spool::~Spool() {
  if (write_fd_ >= 0) {
    if (dirty_ && config_.fsync != SpoolFsync::never) ::fdatasync(write_fd_);
    ::close(write_fd_);
  }
  if (read_fd_ >= 0) ::close(read_fd_);
}

std::string Spool::segment_path(std::uint64_t id) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.spool", static_cast<unsigned long long>(id));
  return config_.dir + "/" + name;
}

Status Spool::open() {
  if (config_.dir.empty()) return fail("spool: no directory configured");
  if (::mkdir(config_.dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail("spool: cannot create " + config_.dir + ": " + std::strerror(errno));
  DIR* dir = ::opendir(config_.dir.c_str());
  if (dir == nullptr)
    return fail("spool: cannot open " + config_.dir + ": " + std::strerror(errno));
  std::vector<std::uint64_t> ids;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    if (name.size() != 26 || name.substr(20) != ".spool") continue;
    std::uint64_t id = 0;
    bool digits = true;
    for (char c : name.substr(0, 20)) {
      if (c < '0' || c > '9') digits = false;
      id = id * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits && id > 0) ids.push_back(id);
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  segments_.clear();
  counters_.bytes = 0;
  for (std::uint64_t id : ids) {
    Segment segment;
    segment.id = id;
    index_segment(segment);
    if (segment.bytes == 0) {
      ::unlink(segment_path(id).c_str());
      continue;
    }
    counters_.bytes += segment.bytes;
    segments_.push_back(segment);
  }
  next_id_ = ids.empty() ? 1 : ids.back() + 1;
  counters_.segments = segments_.size();
  open_ = true;
  return {};
}

// Walks the frame headers of a segment of a previous run to know what it holds (no CRC check:
// that happens when it is read).
void Spool::index_segment(Segment& segment) {
  std::string path = segment_path(segment.id);
  segment.bytes = file_size(path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::uint64_t offset = 0;
  unsigned char header[kHeaderBytes];
  while (offset + kHeaderBytes <= segment.bytes && pread_all(fd, header, kHeaderBytes, offset)) {
    std::uint32_t length = get_u32(header + 4);
    if (get_u32(header) != kMagic || offset + kHeaderBytes + length > segment.bytes) break;
    segment.unread_records += 1;
    segment.unread_items += get_u32(header + 8);
    offset += kHeaderBytes + length;
  }
  ::close(fd);
}

Spool::Segment* Spool::find(std::uint64_t id) {
  for (Segment& segment : segments_) {
    if (segment.id == id) return &segment;
  }
  return nullptr;
}

bool Spool::start_segment() {
  std::uint64_t id = next_id_++;
  std::string path = segment_path(id);
  write_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (write_fd_ < 0) {
    last_error_ = "spool: cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  if (config_.fsync != SpoolFsync::never) fsync_dir(config_.dir);
  Segment segment;
  segment.id = id;
  segments_.push_back(segment);
  counters_.segments = segments_.size();
  return true;
}

// Closes the segment being written: the next append starts a new one.
void Spool::seal_active() {
  if (write_fd_ < 0) return;
  if (dirty_ && config_.fsync != SpoolFsync::never) ::fdatasync(write_fd_);
  ::close(write_fd_);
  write_fd_ = -1;
  dirty_ = false;
}

void Spool::remove_segment_at(std::size_t index, bool count_as_dropped) {
  Segment& segment = segments_[index];
  if (count_as_dropped) {
    counters_.dropped_records += segment.unread_records;
    counters_.dropped_items += segment.unread_items;
  }
  if (write_fd_ >= 0 && index + 1 == segments_.size()) seal_active();
  if (read_fd_ >= 0 && read_segment_ == segment.id) {
    ::close(read_fd_);
    read_fd_ = -1;
    read_segment_ = 0;
    read_offset_ = 0;
  }
  ::unlink(segment_path(segment.id).c_str());
  counters_.bytes -= std::min(counters_.bytes, segment.bytes);
  segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(index));
  counters_.segments = segments_.size();
}

void Spool::maybe_remove_finished() {
  // Only from the front: a later segment is never deleted before an earlier one is done, so a
  // crash replays in order.
  while (!segments_.empty()) {
    Segment& front = segments_.front();
    bool active = write_fd_ >= 0 && segments_.size() == 1;
    if (!front.fully_read || front.outstanding > 0 || active) break;
    remove_segment_at(0, false);
  }
}

bool Spool::make_room(std::uint64_t record_bytes) {
  if (counters_.bytes + record_bytes <= config_.max_bytes) return true;
  if (config_.full_action == SpoolFullAction::drop_newest) return false;
  while (counters_.bytes + record_bytes > config_.max_bytes) {
    // Never drop the segment being written.
    std::size_t droppable = segments_.size() - (write_fd_ >= 0 ? 1 : 0);
    if (droppable == 0) return false;
    remove_segment_at(0, true);
  }
  return true;
}

SpoolAppendResult Spool::append(std::uint32_t items, std::string_view head, std::string_view body) {
  if (!open_) {
    last_error_ = "spool: not open";
    ++counters_.write_errors;
    return SpoolAppendResult::io_error;
  }
  std::uint64_t payload = head.size() + body.size();
  std::uint64_t record_bytes = kHeaderBytes + payload;
  if (payload > kMaxPayload) {
    last_error_ = "spool: record too large";
    ++counters_.write_errors;
    return SpoolAppendResult::io_error;
  }
  std::uint64_t dropped_before = counters_.dropped_records;
  if (write_fd_ >= 0 && segments_.back().bytes > 0 &&
      segments_.back().bytes + record_bytes > config_.segment_max_bytes) {
    seal_active();
    maybe_remove_finished();
  }
  if (!make_room(record_bytes)) {
    ++counters_.dropped_records;
    counters_.dropped_items += items;
    return SpoolAppendResult::dropped_newest;
  }
  if (write_fd_ < 0 && !start_segment()) {
    ++counters_.write_errors;
    return SpoolAppendResult::io_error;
  }
  unsigned char header[kHeaderBytes];
  put_u32(header, kMagic);
  put_u32(header + 4, static_cast<std::uint32_t>(payload));
  put_u32(header + 8, items);
  put_u32(header + 12, crc_of(items, head, body));
  iovec parts[3] = {{header, kHeaderBytes},
                    {const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
  Segment& segment = segments_.back();
  std::uint64_t written = 0;
  int index = 0;
  while (written < record_bytes) {
    ssize_t n = ::writev(write_fd_, parts + index, 3 - index);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      last_error_ = std::string("spool: write failed: ") + std::strerror(errno);
      ++counters_.write_errors;
      // Cut the partial record so the segment stays well framed, then start afresh.
      if (::ftruncate(write_fd_, static_cast<off_t>(segment.bytes)) != 0) {
        segment.bytes += written;  // the reader will find a corrupt tail and skip it
      }
      seal_active();
      counters_.bytes = 0;
      for (const Segment& s : segments_) counters_.bytes += s.bytes;
      return SpoolAppendResult::io_error;
    }
    written += static_cast<std::uint64_t>(n);
    std::size_t advance = static_cast<std::size_t>(n);
    while (index < 3 && advance >= parts[index].iov_len) {
      advance -= parts[index].iov_len;
      ++index;
    }
    if (index < 3) {
      parts[index].iov_base = static_cast<char*>(parts[index].iov_base) + advance;
      parts[index].iov_len -= advance;
    }
  }
  segment.bytes += record_bytes;
  segment.unread_records += 1;
  segment.unread_items += items;
  counters_.bytes += record_bytes;
  ++counters_.records_appended;
  counters_.items_appended += items;
  if (config_.fsync == SpoolFsync::always) {
    ::fdatasync(write_fd_);
  } else {
    dirty_ = true;
  }
  return counters_.dropped_records > dropped_before
             ? SpoolAppendResult::appended_after_dropping_oldest
             : SpoolAppendResult::appended;
}

bool Spool::read_next(SpoolRecord& record) {
  while (true) {
    // First segment not fully read.
    Segment* segment = nullptr;
    for (Segment& s : segments_) {
      if (!s.fully_read) {
        segment = &s;
        break;
      }
    }
    if (segment == nullptr) return false;
    bool active = write_fd_ >= 0 && segment == &segments_.back();
    if (read_segment_ != segment->id) {
      if (read_fd_ >= 0) ::close(read_fd_);
      read_fd_ = ::open(segment_path(segment->id).c_str(), O_RDONLY | O_CLOEXEC);
      read_segment_ = segment->id;
      read_offset_ = 0;
      if (read_fd_ < 0) {
        last_error_ =
            "spool: cannot read " + segment_path(segment->id) + ": " + std::strerror(errno);
        read_segment_ = 0;
        segment->fully_read = true;
        ++counters_.corrupt_records;
        counters_.corrupt_bytes += segment->bytes;
        segment->unread_records = segment->unread_items = 0;
        maybe_remove_finished();
        continue;
      }
    }
    std::uint64_t limit = segment->bytes;
    if (read_offset_ >= limit) {
      if (active) {
        // Caught up with the writer: seal, so the segment can go once its records are acked.
        if (limit == 0) return false;
        seal_active();
      }
      segment->fully_read = true;
      segment->unread_records = segment->unread_items = 0;
      maybe_remove_finished();
      continue;
    }
    unsigned char header[kHeaderBytes];
    bool good = read_offset_ + kHeaderBytes <= limit &&
                pread_all(read_fd_, header, kHeaderBytes, read_offset_);
    std::uint32_t length = good ? get_u32(header + 4) : 0;
    std::uint32_t items = good ? get_u32(header + 8) : 0;
    good = good && get_u32(header) == kMagic && length <= kMaxPayload &&
           read_offset_ + kHeaderBytes + length <= limit;
    if (good) {
      record.payload.resize(length);
      good = pread_all(read_fd_, record.payload.data(), length, read_offset_ + kHeaderBytes) &&
             crc_of(items, record.payload, {}) == get_u32(header + 12);
    }
    if (!good) {
      ++counters_.corrupt_records;
      counters_.corrupt_bytes += limit - read_offset_;
      last_error_ = "spool: corrupt record in " + segment_path(segment->id) + " at offset " +
                    std::to_string(read_offset_) + ": rest of segment skipped";
      if (active) seal_active();
      segment->fully_read = true;
      segment->unread_records = segment->unread_items = 0;
      maybe_remove_finished();
      continue;
    }
    read_offset_ += kHeaderBytes + length;
    record.segment_id = segment->id;
    record.items = items;
    segment->outstanding += 1;
    if (segment->unread_records > 0) segment->unread_records -= 1;
    segment->unread_items -= std::min<std::uint64_t>(segment->unread_items, items);
    ++counters_.records_read;
    if (read_offset_ >= limit && !active) {
      segment->fully_read = true;
      segment->unread_records = segment->unread_items = 0;
    }
    return true;
  }
}

void Spool::ack(std::uint64_t segment_id) {
  Segment* segment = find(segment_id);
  if (segment == nullptr) return;  // dropped meanwhile (spool full, drop_oldest)
  if (segment->outstanding > 0) segment->outstanding -= 1;
  maybe_remove_finished();
}

bool Spool::has_unread() const {
  for (const Segment& s : segments_) {
    if (!s.fully_read && (s.id == read_segment_ ? s.bytes > read_offset_ : s.bytes > 0)) {
      return true;
    }
  }
  return false;
}

std::uint64_t Spool::unread_items() const {
  std::uint64_t total = 0;
  for (const Segment& s : segments_) total += s.unread_items;
  return total;
}

std::uint64_t Spool::outstanding() const {
  std::uint64_t total = 0;
  for (const Segment& s : segments_) total += s.outstanding;
  return total;
}

void Spool::sync() {
  if (write_fd_ >= 0 && dirty_ && config_.fsync == SpoolFsync::batch) {
    ::fdatasync(write_fd_);
    dirty_ = false;
  }
}

}  // namespace aurelay::output
