// Helpers shared by the tests: fixture and corpus paths (the shared corpora: extra inputs), files,
// temporary directories, running a program, NDJSON output and polling.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <spawn.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"

extern char** environ;

namespace aurelay::testing {

// For EXPECT_TRUE / ASSERT_TRUE on a Result or Status: a failure prints its message.
template <typename T>
::testing::AssertionResult succeeded(const Result<T>& result) {
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.error();
}

inline std::filesystem::path fixture_path(const std::string& name) {
  return std::filesystem::path(AURELAY_FIXTURES_DIR) / name;
}

// Path of a file in ../shared/corpus/, or empty when the shared folder is absent (a user's clone).
// Tests run on the project's fixtures and take these as extra inputs when present, never skip
// without them.
inline std::filesystem::path corpus_path(const std::string& name) {
  std::filesystem::path path = std::filesystem::path(AURELAY_SHARED_DIR) / "corpus" / name;
  return std::filesystem::exists(path) ? path : std::filesystem::path();
}

// Whether `text` is one or more decimal digits and nothing else (a number in a tool's output).
inline bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// One USER_LOGIN record of event `serial` (an event of its own: login records need no EOE),
// logging in `account`.
inline std::string login_record(int serial, const std::string& account = "root") {
  return "type=USER_LOGIN msg=audit(1700000000.000:" + std::to_string(serial) +
         "): pid=1 uid=0 auid=0 ses=1 msg='op=login acct=\"" + account +
         "\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=ssh res=success'\n";
}

// The permission bits of `path` (0 when it cannot be read).
inline mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

// A fresh temporary directory, removed with its contents when the object goes.
class TempDir {
 public:
  TempDir() {
    char path_template[] = "/tmp/aurelay-test-XXXXXX";
    path_ = mkdtemp(path_template);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A configuration file (mode 0600) in `dir` that keeps a test run off the host's default paths:
// it replaces any installed /etc/aurelay/aurelay.conf, and the spool and the dead letters (which
// default to /var/lib/aurelay) go to `dir`. Everything else is at its default.
inline std::string private_config(const TempDir& dir) {
  std::filesystem::path path = dir / "private.conf";
  write_file(path, "spool_dir = " + (dir / "spool").string() + "\n" +
                       "dead_letter_file = " + (dir / "dead-letter.ndjson").string() + "\n" +
                       "serial_file = " + (dir / "last-serial").string() + "\n");
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

// Starts argv[0] (a path, or a name looked up in PATH) with `argv`, no shell, its standard
// input, output and error on `in_fd`, `out_fd` and `err_fd` (-1: inherited from the test).
// Returns the pid, or -1 with `error`.
inline pid_t spawn_program(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd,
                           std::string& error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    error = "spawning " + argv[0] + ": " + std::strerror(spawned);
    return -1;
  }
  return pid;
}

// Waits for `pid` to end; its exit status, or -1 when killed by a signal.
inline int wait_for_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct CommandResult {
  int exit_code = -1;  // -1: could not start or killed by a signal
  std::string out;
  std::string err;  // "spawning ...: <reason>" when it could not start
  std::string output() const { return out + err; }  // stdout, then stderr
};

// Runs a program (no shell; argv[0] a path or a name looked up in PATH) with stdin from
// `stdin_path`, capturing stdout and stderr through temporary files.
inline CommandResult run_command(const std::vector<std::string>& argv,
                                 const std::filesystem::path& stdin_path = "/dev/null") {
  CommandResult result;
  char out_template[] = "/tmp/aurelay-test-out-XXXXXX";
  char err_template[] = "/tmp/aurelay-test-err-XXXXXX";
  int in_fd = ::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out_fd = mkostemp(out_template, O_CLOEXEC);
  int err_fd = mkostemp(err_template, O_CLOEXEC);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
    result.err = "opening the standard streams: " + std::string(std::strerror(errno));
  } else {
    pid_t pid = spawn_program(argv, in_fd, out_fd, err_fd, result.err);
    if (pid > 0) {
      result.exit_code = wait_for_exit(pid);
      result.out = read_file(out_template);
      result.err = read_file(err_template);
    }
  }
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) ::close(fd);
  if (out_fd >= 0) unlink(out_template);
  if (err_fd >= 0) unlink(err_template);
  return result;
}

// What the real augenrules writes for the rules.d at `etc_audit`/rules.d: augenrules runs in a
// private mount namespace with `etc_audit` bound over /etc/audit, so the host's /etc/audit is
// never touched, and its audit.rules is read back. nullopt (with `why`) where that cannot run:
// not root, no augenrules, unshare or /etc/audit.
inline std::optional<std::string> augenrules_output(const std::filesystem::path& etc_audit,
                                                    std::string& why) {
  if (::geteuid() != 0) return why = "needs root for a private mount namespace", std::nullopt;
  for (const char* needed : {"/usr/sbin/augenrules", "/usr/bin/unshare", "/etc/audit"}) {
    if (::access(needed, F_OK) != 0) return why = std::string(needed) + " is missing", std::nullopt;
  }
  const CommandResult run =
      run_command({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                   "mount --bind \"$0\" /etc/audit && /usr/sbin/augenrules >/dev/null && "
                   "cat /etc/audit/audit.rules",
                   etc_audit.string()});
  if (run.exit_code != 0) return why = "augenrules failed: " + run.output(), std::nullopt;
  return run.out;
}

// Calls `done` every `interval` until it returns true or `timeout` passes; then once more.
inline bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                     std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(interval);
  }
  return done();
}

// What a process killed with SIGKILL may leave: the kernel can stop its last write(2) part way
// (a fatal signal ends a regular file's write between pages), cutting the file's last line.
enum class LastLine : std::uint8_t { complete, may_be_cut };

// The documents of an NDJSON file, one per line; a line that is not JSON fails the test (and is
// left out). With LastLine::may_be_cut, text after the last newline is left out unchecked.
inline std::vector<rapidjson::Document> documents_in(const std::filesystem::path& path,
                                                     LastLine last = LastLine::complete) {
  std::vector<rapidjson::Document> documents;
  std::string text = read_file(path);
  if (last == LastLine::may_be_cut) text.resize(text.rfind('\n') + 1);  // npos + 1 == 0
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document document;
    document.Parse(line.c_str(), line.size());
    EXPECT_FALSE(document.HasParseError())
        << "invalid JSON in " << path << ": " << line.substr(0, 300);
    if (!document.HasParseError()) documents.push_back(std::move(document));
  }
  return documents;
}

// aurelay's log (spdlog's default logger) while it lives, for a test that checks a warning.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_))) {
    spdlog::set_default_logger(logger_);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() {
    logger_->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

// How often `what` stands in `text` (overlapping occurrences included).
inline std::size_t count_occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

}  // namespace aurelay::testing
