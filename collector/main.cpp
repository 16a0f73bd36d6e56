// aurelay: audit records (kernel netlink, stdin, or a log file) -> MozDef JSON documents.
#include "collector/config/command_line.h"
#include "collector/daemon.h"

int main(int argc, char** argv) {
  const aurelay::Result<aurelay::collector::CommandLine> command_line =
      aurelay::collector::parse_command_line(argc, argv);
  if (const std::optional<int> exit_code = aurelay::collector::finish_without_running(command_line))
    return *exit_code;
  return aurelay::collector::run_daemon(command_line->config);
}
