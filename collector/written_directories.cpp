#include "collector/written_directories.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "output/amqp/amqp_publisher.h"
#include "output/file/file_sink.h"
#include "output/http/bulk_format.h"

namespace aurelay::collector {
namespace {

constexpr mode_t kCreatedDirectoryMode = 0750;

bool is_network_output(const std::string& output) {
  return output::is_http_url(output) || output::is_amqp_url(output);
}

// The directory a file path lies in ("." for a bare name).
std::string directory_of(const std::string& file) {
  std::filesystem::path parent = std::filesystem::path(file).parent_path();
  return parent.empty() ? std::string(".") : parent.lexically_normal().string();
}

}  // namespace

bool writes_spool(const Config& config) {
  return !config.delivery.spool_dir.empty() && is_network_output(config.effective_output());
}

bool writes_state_file(const Config& config, bool live) {
  return !config.state_file.empty() && (live || config.is_set("state_file"));
}

std::vector<WrittenDirectory> written_directories(const Config& config, bool live) {
  std::vector<WrittenDirectory> directories;
  auto add = [&](std::string_view option, const std::string& file) {
    if (file.empty()) return;
    std::string directory = directory_of(file);
    const bool known = std::any_of(directories.begin(), directories.end(),
                                   [&](const WrittenDirectory& d) { return d.path == directory; });
    if (!known) directories.push_back({std::move(directory), option, file});
  };
  const std::string output = config.effective_output();
  if (writes_spool(config)) {
    add("spool_dir", config.delivery.spool_dir);
    add("dead_letter_file", config.delivery.dead_letter_file);
  }
  if (writes_state_file(config, live)) add("state_file", config.state_file);
  if (live) add("serial_file", config.serial_file);
  add("metrics_file", config.metrics_file);
  if (config.pipeline.filter_action == FilterAction::file)
    add("filter_file", config.pipeline.filter_file);
  if (!is_network_output(output) && !output::is_stdout_path(output)) add("output", output);
  return directories;
}

Status create_missing_directories(const std::string& directory,
                                  const std::optional<UserIds>& owner) {
  // The missing directories, deepest first, then created from the top down.
  std::vector<std::filesystem::path> missing;
  std::filesystem::path at = std::filesystem::path(directory).lexically_normal();
  struct stat info {};
  while (!at.empty() && ::stat(at.c_str(), &info) != 0) {
    if (errno != ENOENT) return fail("cannot create " + directory + ": " + std::strerror(errno));
    missing.push_back(at);
    if (!at.has_parent_path() || at.parent_path() == at) break;
    at = at.parent_path();
  }
  if (missing.empty() && !S_ISDIR(info.st_mode))
    return fail("cannot use " + directory + ": it is not a directory");
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    const std::string path = it->string();
    if (::mkdir(path.c_str(), kCreatedDirectoryMode) != 0 && errno != EEXIST)
      return fail("cannot create " + path + ": " + std::strerror(errno));
    // The umask may have taken bits away; the mode is the one documented.
    if (::chmod(path.c_str(), kCreatedDirectoryMode) != 0)
      return fail("cannot set the mode of " + path + ": " + std::strerror(errno));
    if (owner && ::chown(path.c_str(), owner->uid, owner->gid) != 0)
      return fail("cannot give " + path + " to uid " + std::to_string(owner->uid) + ": " +
                  std::strerror(errno));
  }
  return {};
}

Status create_written_directories(const Config& config, bool live,
                                  const std::optional<UserIds>& owner) {
  for (const WrittenDirectory& directory : written_directories(config, live)) {
    if (Status created = create_missing_directories(directory.path, owner); !created)
      return fail(created.error() + " (the directory of " + std::string(directory.option) + " " +
                  directory.option_value + ")");
  }
  return {};
}

}  // namespace aurelay::collector
