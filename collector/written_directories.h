// The directories aurelay writes files into, created at start when they are missing: a source
// build run without the package (which ships /run/aurelay, /var/lib/aurelay, /var/log/aurelay)
// still finds a place for its spool, state file, metrics, file output and dead letters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "collector/config/config.h"
#include "collector/privileges.h"

namespace aurelay::collector {

// A directory the configuration writes into, and the option whose path lies in it.
struct WrittenDirectory {
  std::string path;
  std::string_view option;
  std::string option_value;
};

// Whether a run writes the state file: always while collecting live, when asked to otherwise.
bool writes_state_file(const Config& config, bool live);

// Whether the output spools to disk (HTTP and AMQP do) and may write dead letters.
bool writes_spool(const Config& config);

// The directories this configuration writes files into: spool_dir's parent and
// dead_letter_file's directory (HTTP and AMQP outputs), the state file's (when written), the
// metrics file's and a file output's. Each directory once, in that order.
std::vector<WrittenDirectory> written_directories(const Config& config, bool live);

// Creates `directory` and every missing directory above it with mode 0750, each given to
// `owner` when set, so the process can still write there after dropping privileges. Directories
// that exist are left as they are (their owner and mode are the operator's).
Status create_missing_directories(const std::string& directory,
                                  const std::optional<UserIds>& owner);

// Creates what written_directories() names; a failure names the directory and the option that
// leads there: "cannot create /x (directory of spool_dir /x/spool): Permission denied".
Status create_written_directories(const Config& config, bool live,
                                  const std::optional<UserIds>& owner);

}  // namespace aurelay::collector
