// The restart gap: while no audit daemon is registered (aurelay stopped, crashed, restarting) the
// kernel hands out serials for events it then drops (it holds them only when booted with
// audit=1), and its `lost` counter does not count them. aurelay keeps the serial of the last
// record it read in `serial_file` (with the boot id: serials start again at boot); at start it
// compares the first serial it reads with the previous run's last one. The difference, less one,
// estimates the events the kernel did not deliver meanwhile (some may have been nobody's: records
// of events no rule kept never reach a daemon either, and a serial can carry several records).
//
// The file is one fixed-width line, rewritten in place without fsync: it outlives a crash of the
// process (page cache), and a power loss is a new boot, where the estimate does not apply.
// Owned by the main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace aurelay::collector {

struct SerialMark {
  std::string boot_id;
  std::uint64_t serial = 0;
};

// "<boot id> <serial, 20 digits>\n".
std::string format_serial_mark(const SerialMark& mark);
std::optional<SerialMark> parse_serial_mark(const std::string& text);

// Serials skipped between the previous run's last serial and this run's first, or nothing when
// they cannot be compared (another boot, the serial went back: a wrap, another host's file).
std::optional<std::uint64_t> skipped_serials(const SerialMark& previous, const std::string& boot_id,
                                             std::uint64_t first_serial);

// /proc/sys/kernel/random/boot_id without its newline ("" when unreadable).
std::string current_boot_id();

class SerialFile {
 public:
  // Reads what the previous run left in `path`, then opens it for this run's marks (created
  // 0640). A missing file is a first run; an unreadable or malformed one is said once in
  // previous_error() and ignored.
  static Result<SerialFile> open(const std::string& path, std::string boot_id);

  SerialFile(SerialFile&& other) noexcept;
  SerialFile& operator=(SerialFile&& other) noexcept;
  ~SerialFile();

  const std::optional<SerialMark>& previous() const { return previous_; }
  const std::string& previous_error() const { return previous_error_; }
  const std::string& boot_id() const { return boot_id_; }
  // Writes `serial` as the last one read (only when it changed); the error, if any.
  Status save(std::uint64_t serial);

 private:
  SerialFile() = default;

  std::string path_;
  std::string boot_id_;
  int fd_ = -1;
  std::uint64_t saved_ = 0;  // 0: nothing written yet (the file may still hold a longer old mark)
  std::optional<SerialMark> previous_;
  std::string previous_error_;
};

}  // namespace aurelay::collector
