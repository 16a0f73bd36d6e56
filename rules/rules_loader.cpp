#include "rules/rules_loader.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

extern char** environ;

namespace aurelay::rules {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

// auditctl reports "There was an error in line N of FILE" after the message(s) explaining it.
constexpr std::string_view kErrorInLine = "There was an error in line ";

}  // namespace

std::string describe_line_error(const RuleLineError& failure) {
  return failure.where + ": " + failure.message;
}

int continue_on_error_line(const std::string& rules_file) {
  std::ifstream in(rules_file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::vector<std::string> words = split_words(line);
    if (words.size() == 1 && (words[0] == "-i" || words[0] == "-c")) return number;
  }
  return 0;
}

ProgramResult run_program(const std::vector<std::string>& argv) {
  ProgramResult result;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.spawn_errno = errno;
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // Fixed environment: auditctl needs none, and locale settings would translate its messages.
  char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char lang_env[] = "LC_ALL=C";
  char* env[] = {path_env, lang_env, nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    result.spawn_errno = rc;
    return result;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
    // glibc's posix_spawn reports exec failures through its return value; 127 also means the
    // program could not be run.
  }
  return result;
}

RulesLoadResult load_rules_file(const std::string& rules_file, const std::string& auditctl_path,
                                const RulesFileNames& names) {
  RulesLoadResult result;
  const std::string name = names.name.empty() ? rules_file : names.name;
  auto where = [&](int line) {
    return names.origin_of ? names.origin_of(line) : name + ":" + std::to_string(line);
  };
  if (::access(auditctl_path.c_str(), X_OK) != 0) {
    result.auditctl_missing = true;
    result.error = "cannot run " + auditctl_path + " (" + std::strerror(errno) +
                   "): install the auditd package for auditctl, set `auditctl` to its path, or "
                   "set rules_missing_auditctl = skip";
    return result;
  }
  if (::access(rules_file.c_str(), R_OK) != 0) {
    result.error = "cannot read rules file " + name + ": " + std::strerror(errno);
    return result;
  }
  const ProgramResult run = run_program({auditctl_path, "-R", rules_file});
  result.exit_status = run.exit_status;
  result.output = run.output;
  if (run.spawn_errno != 0) {
    result.auditctl_missing = run.spawn_errno == ENOENT || run.spawn_errno == EACCES;
    result.error = "cannot run " + auditctl_path + ": " + std::strerror(run.spawn_errno);
    return result;
  }

  // Each "There was an error in line N" closes the messages printed since the previous one.
  std::string pending;
  for (const std::string& line : split_lines(run.output)) {
    const auto at = line.find(kErrorInLine);
    if (at == std::string::npos) {
      if (line.empty()) continue;
      if (!pending.empty()) pending += "; ";
      pending += line;
      continue;
    }
    std::string_view rest = std::string_view(line).substr(at + kErrorInLine.size());
    int number = 0;
    std::from_chars(rest.data(), rest.data() + rest.size(), number);
    result.line_errors.push_back(
        {number, where(number), pending.empty() ? std::string("rejected") : pending});
    pending.clear();
  }

  // Without -i/-c before it, a failed line ends the load (auditctl exits non-zero there). After
  // -i auditctl exits 0; after -c it goes on but exits 1 when a line failed.
  result.continue_line = continue_on_error_line(rules_file);
  for (const RuleLineError& failure : result.line_errors) {
    if (result.continue_line == 0 || failure.line < result.continue_line) {
      result.stopped_at_line = failure.line;
      break;
    }
  }
  const bool went_on_past_errors = result.continue_line > 0 && !result.line_errors.empty();
  result.ok = result.stopped_at_line == 0 && (run.exit_status == 0 || went_on_past_errors);
  if (!result.ok) {
    if (result.stopped_at_line != 0) {
      for (const auto& failure : result.line_errors) {
        if (!result.error.empty()) result.error += "; ";
        result.error += describe_line_error(failure);
      }
    } else {
      result.error = auditctl_path + " -R " + name + " failed (exit status " +
                     std::to_string(run.exit_status) + ")" +
                     (pending.empty() ? std::string() : ": " + pending);
    }
  }
  return result;
}

Result<std::vector<std::string>> list_rules(const std::string& auditctl_path) {
  const ProgramResult run = run_program({auditctl_path, "-l"});
  if (run.exit_status != 0) {
    return fail(auditctl_path + " -l failed: " +
                (run.spawn_errno != 0 ? std::string(std::strerror(run.spawn_errno)) : run.output));
  }
  std::vector<std::string> rules;
  for (const std::string& line : split_lines(run.output)) {
    if (line.starts_with("-a ") || line.starts_with("-w ")) rules.push_back(line);
  }
  return rules;
}

Status delete_rules(const std::string& auditctl_path, const std::vector<std::string>& rules) {
  for (const std::string& rule : rules) {
    std::vector<std::string> argv = split_words(rule);
    if (argv.empty()) continue;
    if (argv[0] == "-a") {
      argv[0] = "-d";
    } else if (argv[0] == "-w") {
      argv[0] = "-W";
    } else {
      return fail("cannot delete '" + rule + "': not an -a or -w rule");
    }
    argv.insert(argv.begin(), auditctl_path);
    const ProgramResult run = run_program(argv);
    if (run.exit_status != 0) {
      return fail("deleting '" + rule + "' failed: " + run.output);
    }
  }
  return {};
}

Result<KernelAuditSettings> read_kernel_settings(const std::string& auditctl_path) {
  const ProgramResult run = run_program({auditctl_path, "-s"});
  if (run.exit_status != 0) {
    return fail(auditctl_path + " -s failed: " + run.output);
  }
  KernelAuditSettings settings;
  for (const std::string& line : split_lines(run.output)) {
    const std::vector<std::string> words = split_words(line);
    if (words.size() < 2) continue;
    long value = -1;
    const std::string& text = words[1];
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc()) continue;
    if (words[0] == "enabled") settings.enabled = value;
    if (words[0] == "failure") settings.failure = value;
    if (words[0] == "pid") settings.pid = value;
    if (words[0] == "rate_limit") settings.rate_limit = value;
    if (words[0] == "backlog_limit") settings.backlog_limit = value;
    if (words[0] == "backlog_wait_time") settings.backlog_wait_time = value;
  }
  if (settings.enabled < 0 || settings.backlog_limit < 0) {
    return fail("cannot read the kernel audit settings from: " + run.output);
  }
  return settings;
}

Status restore_kernel_settings(const std::string& auditctl_path,
                               const KernelAuditSettings& settings) {
  std::vector<std::string> argv = {auditctl_path};
  auto add = [&](const char* option, long value) {
    if (value < 0) return;
    argv.push_back(option);
    argv.push_back(std::to_string(value));
  };
  add("-b", settings.backlog_limit);
  add("--backlog_wait_time", settings.backlog_wait_time);
  add("-r", settings.rate_limit);
  if (settings.failure != 2) add("-f", settings.failure);  // never set panic, even if found
  if (settings.enabled == 0 || settings.enabled == 1) add("-e", settings.enabled);
  if (argv.size() == 1) return {};
  const ProgramResult run = run_program(argv);
  if (run.exit_status != 0) {
    return fail("restoring kernel audit settings failed: " + run.output);
  }
  return {};
}

}  // namespace aurelay::rules
