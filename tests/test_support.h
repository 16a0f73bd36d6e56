// Helpers shared by the tests: fixture and corpus paths, skipping when they are absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aurelay::testing {

inline std::filesystem::path fixture_path(const std::string& name) {
  return std::filesystem::path(AURELAY_FIXTURES_DIR) / name;
}

// Path of a file in ../shared/corpus/, or empty when the shared folder is absent (a user's clone).
inline std::filesystem::path corpus_path(const std::string& name) {
  std::filesystem::path path = std::filesystem::path(AURELAY_SHARED_DIR) / "corpus" / name;
  return std::filesystem::exists(path) ? path : std::filesystem::path();
}

#define AURELAY_CORPUS_OR_SKIP(var, name)                                  \
  const std::filesystem::path var = ::aurelay::testing::corpus_path(name); \
  if (var.empty()) GTEST_SKIP() << "shared corpus absent: " << (name)

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace aurelay::testing

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace aurelay::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs a program (no shell) with stdin from `stdin_path` (or /dev/null), capturing stdout and
// stderr through temporary files.
inline CommandResult run_command(const std::vector<std::string>& argv,
                                 const std::string& stdin_path = "/dev/null") {
  char out_template[] = "/tmp/aurelay-test-out-XXXXXX";
  char err_template[] = "/tmp/aurelay-test-err-XXXXXX";
  int out_fd = mkstemp(out_template);
  int err_fd = mkstemp(err_template);
  pid_t pid = fork();
  if (pid == 0) {
    int in_fd = ::open(stdin_path.c_str(), O_RDONLY);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ::close(out_fd);
  ::close(err_fd);
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out_template);
  result.err = read_file(err_template);
  unlink(out_template);
  unlink(err_template);
  return result;
}

// A fresh temporary directory, removed with its contents when the object goes.
class TempDir {
 public:
  TempDir() {
    char path_template[] = "/tmp/aurelay-test-XXXXXX";
    path_ = mkdtemp(path_template);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// An empty configuration file (mode 0600) in `dir`, so a test run ignores any installed
// /etc/aurelay/aurelay.conf and starts from the defaults.
inline std::string empty_config(const TempDir& dir) {
  std::filesystem::path path = dir / "empty.conf";
  write_file(path, "");
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

}  // namespace aurelay::testing
