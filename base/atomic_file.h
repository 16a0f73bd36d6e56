// Replaces a file atomically, so that a reader (an operator, node_exporter) never sees half of it.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace aurelay {

// Writes `text` to a temp file in the directory of `path` (created with `directory_mode` when
// missing), fsyncs it, gives it `file_mode`, renames it over `path` and fsyncs the directory.
// On failure no temporary file is left and the message names the path.
Status write_file_atomically(const std::string& path, const std::string& text, mode_t file_mode,
                             mode_t directory_mode);

}  // namespace aurelay
