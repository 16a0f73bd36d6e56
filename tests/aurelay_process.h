// A program (usually the aurelay binary) running in the background for a test:
//
//   AurelayProcess aurelay({AURELAY_BINARY, "--input", "stdin", ...}, dir / "stderr.log",
//                          AurelayProcess::Stdin::pipe);
//   aurelay.write_stdin(records);
//   aurelay.close_stdin();
//   EXPECT_EQ(aurelay.wait_exit(30s), 0) << aurelay.stderr_text();
//
// Its stderr is appended to a file, its stdout is the test's; stdin is /dev/null or a pipe the
// test writes to. A process still running when the object goes is killed (SIGKILL). Not movable:
// factories return it as a prvalue (`AurelayProcess p = make(...)`).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.h"

namespace aurelay::testing {

class AurelayProcess {
 public:
  enum class Stdin { null, pipe };

  // Starts `argv` (argv[0] = the program) with stderr appended to `stderr_path`.
  AurelayProcess(const std::vector<std::string>& argv, std::filesystem::path stderr_path,
                 Stdin input = Stdin::null)
      : stderr_path_(std::move(stderr_path)) {
    int pipe_fds[2] = {-1, -1};
    int in_fd = -1;
    if (input == Stdin::pipe) {
      EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
      in_fd = pipe_fds[0];
    } else {
      in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    std::string error;
    pid_ = spawn_program(argv, in_fd, -1, err_fd, error);
    EXPECT_GT(pid_, 0) << error;
    if (in_fd >= 0) ::close(in_fd);
    if (err_fd >= 0) ::close(err_fd);
    stdin_ = pipe_fds[1];
  }

  AurelayProcess(const AurelayProcess&) = delete;
  AurelayProcess& operator=(const AurelayProcess&) = delete;

  ~AurelayProcess() {
    close_stdin();
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  std::string stderr_text() const { return read_file(stderr_path_); }

  // Writes all of `text` to its stdin (Stdin::pipe).
  void write_stdin(const std::string& text) {
    std::string_view rest = text;
    while (!rest.empty()) {
      ssize_t n = ::write(stdin_, rest.data(), rest.size());
      ASSERT_GT(n, 0);
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // End of input: aurelay drains and exits.
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

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

  void send(int signal) {
    if (pid_ > 0 && !exited_) kill(pid_, signal);
  }

  // Sends `signal` and waits for the exit; returns the exit status, -1 when killed by a signal,
  // -2 on timeout.
  int stop(int signal = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    send(signal);
    return wait_exit(timeout);
  }

  // The exit status, -1 when killed by a signal, -2 when still running after `timeout`.
  int wait_exit(std::chrono::seconds timeout) {
    return wait_for([this] { return !running(); }, timeout) ? exit_status_ : -2;
  }

 private:
  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
};

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
inline std::string request_state_file(pid_t pid, const std::filesystem::path& path,
                                      std::chrono::seconds timeout = std::chrono::seconds(5)) {
  std::filesystem::remove(path);
  kill(pid, SIGCONT);
  wait_for([&] { return std::filesystem::exists(path); }, timeout);
  return read_file(path);
}

}  // namespace aurelay::testing
