#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/write_all.h"

namespace aurelay {
namespace {

Failure fail_errno(const std::string& what, const std::string& path) {
  return fail(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& text, mode_t file_mode,
                             mode_t directory_mode) {
  const std::filesystem::path target(path);
  const std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::exists(directory, ec)) {
    std::filesystem::create_directories(directory, ec);
    if (ec) return fail("cannot create directory " + directory.string() + ": " + ec.message());
    ::chmod(directory.c_str(), directory_mode);
  }
  // A name readers skip: node_exporter's textfile collector only reads *.prom.
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return fail_errno("cannot create temporary file for", path);
  bool ok = ::fchmod(fd, file_mode) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(temp.c_str());
    errno = saved_errno;
    return fail_errno("cannot write", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temp.c_str());
    errno = rename_errno;
    return fail_errno("cannot rename temporary file to", path);
  }
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace aurelay
