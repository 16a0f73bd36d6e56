// The command line: --config FILE, --check-config, --help, --version, hidden --dump-config and
// --dump-man (the generators of the shipped aurelay.conf and aurelay.8), and every option of the
// config table as --key VALUE (or --key=VALUE; '-' may replace '_'). Sources merge as
// defaults < config file < command line.
#pragma once

#include <string>

#include "collector/config.h"

namespace aurelay::collector {

enum class CommandLineAction { kRun, kHelp, kVersion, kCheckConfig, kDumpConfig, kDumpMan, kError };

struct CommandLineResult {
  CommandLineAction action = CommandLineAction::kRun;
  Config config;            // merged; meaningful for kRun and kCheckConfig
  std::string output;       // text for stdout (help, version, dumps, check-config summary)
  std::string error;        // text for stderr when action == kError
  int exit_code = kExitOk;  // what main returns for every action but kRun
};

CommandLineResult parse_command_line(int argc, char** argv);

// For main: prints `output` to stdout or `error` to stderr and returns true when the action is
// not kRun (main then returns result.exit_code).
bool finish_without_running(const CommandLineResult& result);

}  // namespace aurelay::collector
