// Test helpers for running the aurelay binary in the background against the real kernel:
//
//   TempDirectory dir;                                   // removed with everything in it
//   AurelayProcess aurelay(dir.path(), {"--output", dir / "out.json"});
//   ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 10s)) << aurelay.stderr_text();
//   ...
//   EXPECT_EQ(aurelay.stop(), 0);                        // SIGTERM, exit status
//
// The two-argument constructor prepends the live-test defaults (no rules file,
// backlog_wait_time 0, state file in `dir`); AurelayProcess::exactly(dir, argv) runs argv as
// given (argv[0] = the binary), e.g. with only `--config FILE`.
#pragma once

#include <fcntl.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel_guard.h"

namespace aurelay::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// aurelay started in the background with its stderr in `dir`/stderr.log and stdin /dev/null.
class AurelayProcess {
 public:
  // AURELAY_BINARY with the live-test defaults, then `args`.
  AurelayProcess(const std::string& dir, std::vector<std::string> args) : dir_(dir) {
    std::vector<std::string> argv{
        AURELAY_BINARY,         "--rules_file", "",    "--backlog_wait_time", "0", "--state_file",
        dir + "/aurelay.state", "--log_level",  "info"};
    argv.insert(argv.end(), args.begin(), args.end());
    spawn(std::move(argv));
  }

  // `argv` exactly as given; argv[0] is the program.
  static AurelayProcess exactly(const std::string& dir, std::vector<std::string> argv) {
    AurelayProcess process(dir);
    process.spawn(std::move(argv));
    return process;
  }

  AurelayProcess(AurelayProcess&& other) noexcept
      : dir_(std::move(other.dir_)), pid_(other.pid_), exited_(other.exited_) {
    other.pid_ = -1;
  }
  AurelayProcess& operator=(AurelayProcess&&) = delete;
  AurelayProcess(const AurelayProcess&) = delete;
  AurelayProcess& operator=(const AurelayProcess&) = delete;

  ~AurelayProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  std::string stderr_text() const { return slurp(dir_ + "/stderr.log"); }
  bool running() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return false;
    }
    return true;
  }

  // Sends `signal` and waits for the exit; returns the exit status, -1 when killed by a signal,
  // -2 on timeout.
  int stop(int signal = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    if (!exited_) kill(pid_, signal);
    return wait_exit(timeout);
  }
  int wait_exit(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!running()) return exit_status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -2;
  }

 private:
  explicit AurelayProcess(std::string dir) : dir_(std::move(dir)) {}

  void spawn(std::vector<std::string> argv) {
    pid_ = fork();
    if (pid_ == 0) {
      int err = ::open((dir_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(err, 2);
      int null = ::open("/dev/null", O_RDWR);
      dup2(null, 0);
      std::vector<char*> raw;
      for (std::string& arg : argv) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
  }

  std::string dir_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
};

class TempDirectory {
 public:
  TempDirectory() {
    char path[] = "/tmp/aurelay-live-XXXXXX";
    path_ = mkdtemp(path);
  }
  ~TempDirectory() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Waits until the kernel's audit pid is `pid` (registration done).
inline bool wait_for_audit_pid(KernelAuditGuard& guard, std::uint32_t pid,
                               std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (guard.status().pid == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The documents of an NDJSON file, one per line; a line that is not JSON fails the test.
inline std::vector<rapidjson::Document> documents_in(const std::string& path) {
  std::vector<rapidjson::Document> documents;
  std::istringstream lines(slurp(path));
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document document;
    document.Parse(line.c_str(), line.size());
    EXPECT_FALSE(document.HasParseError()) << line.substr(0, 200);
    if (!document.HasParseError()) documents.push_back(std::move(document));
  }
  return documents;
}

// `key = value` lines of a state file; 0 when the key is missing or not a number.
inline std::uint64_t state_number(const std::string& state, const std::string& key) {
  std::istringstream lines(state);
  const std::string prefix = key + " = ";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    try {
      return std::stoull(line.substr(prefix.size()));
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

// Sends SIGCONT to `pid` and waits for a fresh state file at `path`; returns its text.
inline std::string request_state_file(pid_t pid, const std::string& path,
                                      std::chrono::seconds timeout = std::chrono::seconds(5)) {
  std::filesystem::remove(path);
  kill(pid, SIGCONT);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return slurp(path);
}

}  // namespace aurelay::testing
