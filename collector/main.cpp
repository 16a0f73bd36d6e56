// aurelay: audit records (kernel netlink, stdin, or a log file) -> MozDef JSON documents.
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "collector/log_file_source.h"
#include "collector/metrics.h"
#include "collector/pipeline.h"
#include "output/file_sink.h"

namespace {

using namespace aurelay;

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitAuditPidHeld = 3,
};

struct Options {
  std::string input = "netlink";
  std::string output = "stdout";
};

std::string local_hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

int run(const Options& options) {
  std::string error;
  std::unique_ptr<collector::RecordSource> source;
  if (options.input == "netlink" || options.input == "multicast") {
    spdlog::error("--input {}: live collection is not built yet; use --input FILE or stdin",
                  options.input);
    return kExitUsage;
  }
  source = collector::LogFileSource::open(options.input, error);
  if (!source) {
    spdlog::error("{}", error);
    return kExitFailure;
  }

  if (options.output.starts_with("http://") || options.output.starts_with("https://")) {
    spdlog::error("--output {}: the HTTP shipper is not built yet; use stdout or a file",
                  options.output);
    return kExitUsage;
  }
  std::unique_ptr<output::Sink> sink = output::FileSink::open({.path = options.output}, error);
  if (!sink) {
    spdlog::error("{}", error);
    return kExitFailure;
  }

  // Signals are taken through a signalfd by this thread; the pipeline threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGCONT}) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);

  collector::Metrics metrics;
  collector::PipelineConfig pipeline_config;
  pipeline_config.encoder.hostname = local_hostname();
  collector::Pipeline pipeline(pipeline_config, std::move(source), std::move(sink), metrics);
  pipeline.start();

  bool stopping = false;
  while (!pipeline.finished()) {
    pollfd pfd{signal_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    signalfd_siginfo info{};
    while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
      switch (info.ssi_signo) {
        case SIGTERM:
        case SIGINT:
          if (stopping) {
            spdlog::warn("second stop signal: exiting at once");
            _exit(kExitFailure);
          }
          stopping = true;
          spdlog::info("stop signal: draining");
          pipeline.request_stop();
          break;
        case SIGHUP:
          pipeline.request_reopen();
          break;
        default:
          break;
      }
    }
  }
  pipeline.join();
  ::close(signal_fd);
  std::string source_error = pipeline.source_error();
  if (!source_error.empty()) {
    spdlog::error("input failed: {}", source_error);
    return kExitFailure;
  }
  spdlog::info("done: {} records, {} events, {} documents, {} parse errors",
               metrics.records_received.load(), metrics.events_completed.load(),
               metrics.documents_encoded.load(), metrics.parse_errors.load());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("aurelay");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z aurelay[%P] %l: %v");

  Options options;
  CLI::App app{"aurelay: Linux audit collector that ships MozDef JSON"};
  app.set_version_flag("--version", std::string("aurelay ") + AURELAY_VERSION);
  app.add_option("--input", options.input, "netlink | multicast | stdin | FILE");
  app.add_option("--output", options.output, "stdout | FILE | http(s)://URL");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return run(options);
}
