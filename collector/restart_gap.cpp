// The restart gap (see restart_gap.h).
#include "collector/restart_gap.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <utility>

#include "base/write_all.h"

namespace aurelay::collector {
namespace {

constexpr std::size_t kSerialDigits = 20;  // UINT64_MAX
constexpr std::size_t kMaxMarkBytes = 256;

}  // namespace

std::string format_serial_mark(const SerialMark& mark) {
  std::string digits = std::to_string(mark.serial);
  std::string text = mark.boot_id;
  text.push_back(' ');
  text.append(kSerialDigits - std::min(digits.size(), kSerialDigits), '0');
  text.append(digits);
  text.push_back('\n');
  return text;
}

std::optional<SerialMark> parse_serial_mark(const std::string& text) {
  const std::size_t space = text.find(' ');
  if (space == std::string::npos || space == 0) return std::nullopt;
  std::size_t end = text.find('\n', space);
  if (end == std::string::npos) end = text.size();
  SerialMark mark;
  mark.boot_id = text.substr(0, space);
  const char* first = text.data() + space + 1;
  const char* last = text.data() + end;
  const auto [stop, error] = std::from_chars(first, last, mark.serial);
  if (error != std::errc() || stop != last || first == last) return std::nullopt;
  return mark;
}

std::optional<std::uint64_t> skipped_serials(const SerialMark& previous, const std::string& boot_id,
                                             std::uint64_t first_serial) {
  if (boot_id.empty() || previous.boot_id != boot_id || first_serial <= previous.serial)
    return std::nullopt;
  return first_serial - previous.serial - 1;
}

std::string current_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

Result<SerialFile> SerialFile::open(const std::string& path, std::string boot_id) {
  SerialFile file;
  file.path_ = path;
  file.boot_id_ = std::move(boot_id);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return fail(path + ": " + std::strerror(errno));
  file.fd_ = fd;
  char buffer[kMaxMarkBytes];
  const ssize_t got = ::pread(fd, buffer, sizeof buffer, 0);
  if (got < 0) {
    file.previous_error_ = path + ": " + std::strerror(errno);
  } else if (got > 0) {
    file.previous_ = parse_serial_mark(std::string(buffer, static_cast<std::size_t>(got)));
    if (!file.previous_) file.previous_error_ = path + ": not a serial mark (ignored)";
  }
  return file;
}

SerialFile::SerialFile(SerialFile&& other) noexcept
    : path_(std::move(other.path_)),
      boot_id_(std::move(other.boot_id_)),
      fd_(std::exchange(other.fd_, -1)),
      saved_(other.saved_),
      previous_(std::move(other.previous_)),
      previous_error_(std::move(other.previous_error_)) {}

SerialFile& SerialFile::operator=(SerialFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    boot_id_ = std::move(other.boot_id_);
    fd_ = std::exchange(other.fd_, -1);
    saved_ = other.saved_;
    previous_ = std::move(other.previous_);
    previous_error_ = std::move(other.previous_error_);
  }
  return *this;
}

SerialFile::~SerialFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status SerialFile::save(std::uint64_t serial) {
  if (serial == 0 || serial == saved_ || fd_ < 0) return {};
  const std::string text = format_serial_mark({boot_id_, serial});
  // Same length every time (a fixed-width serial): rewriting in place never leaves a tail, so
  // only the first write cuts what an earlier, longer mark left.
  const ssize_t written = ::pwrite(fd_, text.data(), text.size(), 0);
  if (written < 0) return fail(path_ + ": " + std::strerror(errno));
  if (written != static_cast<ssize_t>(text.size())) return fail(path_ + ": short write");
  if (saved_ == 0 && ::ftruncate(fd_, static_cast<off_t>(text.size())) != 0)
    return fail(path_ + ": " + std::strerror(errno));
  saved_ = serial;
  return {};
}

}  // namespace aurelay::collector
