// The daemon: runs the start-up steps in order (logging, output, kernel settings, audit socket,
// rules, privilege drop, pipeline, readiness), serves signals and timers from the main thread,
// and runs the teardown steps in reverse.
#pragma once

#include "collector/config.h"

namespace aurelay::collector {

// Runs until end of input or a stop signal; returns the process exit code.
int run_daemon(const Config& config);

}  // namespace aurelay::collector
