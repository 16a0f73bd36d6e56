// The command line: --config FILE, --check-config, --help, --version, hidden --dump-config and
// --dump-man (the generators of the shipped aurelay.conf and aurelay.8), and every option of the
// config table as --key VALUE (or --key=VALUE; '-' may replace '_'). Sources merge as
// defaults < config file < command line.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "collector/config/config.h"

namespace aurelay::collector {

enum class CommandLineAction { kRun, kHelp, kVersion, kCheckConfig, kDumpConfig, kDumpMan };

struct CommandLine {
  CommandLineAction action = CommandLineAction::kRun;
  Config config;       // merged; meaningful for kRun and kCheckConfig
  std::string output;  // text for stdout (help, version, dumps, check-config summary)
};

// A bad command line or config fails with kExitConfigError and an error() that is the text for
// stderr ("aurelay: MESSAGE\n", with a hint at --help after a usage error).
Result<CommandLine> parse_command_line(int argc, char** argv);

// For main: unless the command line says to run, prints its output to stdout (or its error to
// stderr) and returns the exit code main returns; std::nullopt when the daemon is to run.
std::optional<int> finish_without_running(const Result<CommandLine>& command_line);

}  // namespace aurelay::collector
