// Test helper for tests that use the real kernel audit subsystem.
//
//   AURELAY_KERNEL_GUARD_OR_SKIP(guard);   // skips where the kernel refuses; fails on real errors
//   guard.enable_audit();                  // enabled=1 for the test
//   guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "execve");
//   ...
//
// The guard snapshots the kernel audit status at start, sets backlog_wait_time 0 while testing
// and, when it goes out of scope (also after a failed ASSERT), deletes every rule keyed
// aurelay-test*, gives the audit pid back if this process (or a dead holder) has it, and restores
// enabled, backlog_wait_time, backlog_limit and rate_limit as found.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "netlink/audit_control.h"
#include "test_support.h"

namespace aurelay::testing {

inline bool is_executable(const char* path) { return access(path, X_OK) == 0; }

// The parent pid of a process, or -1.
inline pid_t parent_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
  }
  return -1;
}

// Keys of the loaded rules that start with `prefix` (from `auditctl -l`).
inline std::set<std::string> loaded_rule_keys(const std::string& prefix) {
  std::set<std::string> keys;
  CommandResult listed = run_command({"auditctl", "-l"});
  std::istringstream lines(listed.output());
  std::string token;
  std::string previous;
  while (lines >> token) {
    std::string key;
    if (token.rfind("key=", 0) == 0) key = token.substr(4);
    if (previous == "-k") key = token;
    if (key.rfind(prefix, 0) == 0 && !key.empty()) keys.insert(key);
    previous = token;
  }
  return keys;
}

inline constexpr const char* kTestKeyPrefix = "aurelay-test";

class KernelAuditGuard {
 public:
  enum class Availability { ready, unavailable, error };

  KernelAuditGuard() = default;
  ~KernelAuditGuard() { finish(); }
  KernelAuditGuard(const KernelAuditGuard&) = delete;
  KernelAuditGuard& operator=(const KernelAuditGuard&) = delete;

  // Checks that the kernel audit subsystem is usable, snapshots it and sets
  // backlog_wait_time 0. `reason` says why not.
  Availability start(std::string& reason) {
    if (geteuid() != 0) {
      reason = "kernel audit tests need root";
      return Availability::unavailable;
    }
    if (!is_executable("/sbin/auditctl") && !is_executable("/usr/sbin/auditctl")) {
      reason = "auditctl not installed";
      return Availability::unavailable;
    }
    Status opened = control_.open();
    Result<netlink::AuditStatus> found =
        opened ? control_.get_status() : Result<netlink::AuditStatus>(fail(opened.error()));
    if (!found) {
      reason = found.error();
      int error = control_.error_number();
      if (error == EPERM || error == EPROTONOSUPPORT || error == ECONNREFUSED || error == EACCES ||
          error == EAFNOSUPPORT) {
        reason = "the kernel refuses audit here: " + reason;
        return Availability::unavailable;
      }
      return Availability::error;
    }
    found_ = *found;
    if (found_.enabled == 2) {
      reason = "audit configuration is locked (enabled=2)";
      return Availability::unavailable;
    }
    started_ = true;
    if (Status set = control_.set_backlog_wait_time(0); !set) {
      reason = set.error();
      return Availability::error;
    }
    return Availability::ready;
  }

  netlink::AuditControl& control() { return control_; }
  const netlink::AuditStatus& found() const { return found_; }

  netlink::AuditStatus status() {
    Result<netlink::AuditStatus> now = control_.get_status();
    EXPECT_TRUE(now.ok()) << now.error();
    return now ? *now : netlink::AuditStatus{};
  }

  // enabled=1 for the test (restored at the end).
  Status enable_audit() { return control_.set_enabled(1); }

  // A key unique to this process: aurelay-test-<pid>-<name>.
  std::string key(const std::string& name) const {
    return std::string(kTestKeyPrefix) + "-" + std::to_string(getpid()) + "-" + name;
  }

  // Adds a rule (auditctl arguments without -k) keyed key(name); returns the key or "" with
  // `error` on failure.
  std::string add_rule(const std::vector<std::string>& rule, const std::string& name,
                       std::string& error) {
    std::string rule_key = key(name);
    std::vector<std::string> argv{"auditctl"};
    argv.insert(argv.end(), rule.begin(), rule.end());
    argv.push_back("-k");
    argv.push_back(rule_key);
    keys_.insert(rule_key);
    CommandResult added = run_command(argv);
    if (added.exit_code != 0) {
      error = "auditctl failed: " + added.output();
      return "";
    }
    return rule_key;
  }

  // Deletes the test rules now (also done at the end).
  void delete_test_rules() {
    std::set<std::string> keys = keys_;
    std::set<std::string> loaded = loaded_rule_keys(kTestKeyPrefix);
    keys.insert(loaded.begin(), loaded.end());
    for (const std::string& rule_key : keys) run_command({"auditctl", "-D", "-k", rule_key});
    keys_.clear();
  }

  // Restores everything; idempotent. Reports failures as test failures.
  void finish() {
    if (!started_) return;
    started_ = false;
    delete_test_rules();
    if (Result<netlink::AuditStatus> now = control_.get_status(); now) {
      if (now->pid != found_.pid && now->pid != 0) give_pid_back(now->pid);
      if (now->rate_limit != found_.rate_limit)
        expect_ok(control_.set_rate_limit(found_.rate_limit));
      if (now->backlog_limit != found_.backlog_limit)
        expect_ok(control_.set_backlog_limit(found_.backlog_limit));
      if (now->failure != found_.failure && found_.failure != 2)
        expect_ok(control_.set_failure(found_.failure));
      expect_ok(control_.set_backlog_wait_time(found_.backlog_wait_time));
      if (now->enabled != found_.enabled) expect_ok(control_.set_enabled(found_.enabled));
    } else {
      ADD_FAILURE() << "kernel guard could not read the audit status: " << now.error();
    }
    EXPECT_TRUE(loaded_rule_keys(kTestKeyPrefix).empty()) << "aurelay-test rules left behind";
  }

 private:
  // The pid is held by someone other than the holder found at start. Ours: give it back. A child
  // of ours left running: kill it. A dead holder: the kernel lets anyone clear it.
  static void expect_ok(const Status& done) { EXPECT_TRUE(done.ok()) << done.error(); }

  void give_pid_back(std::uint32_t holder) {
    pid_t pid = static_cast<pid_t>(holder);
    if (pid != getpid() && parent_of(pid) == getpid()) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    bool mine_or_dead = pid == getpid() || kill(pid, 0) != 0;
    if (mine_or_dead) {
      const Status cleared = control_.clear_pid();
      EXPECT_TRUE(cleared.ok()) << "giving the audit pid back: " << cleared.error();
    } else {
      ADD_FAILURE() << "audit pid held by unrelated live process " << pid;
    }
  }

  netlink::AuditControl control_;
  netlink::AuditStatus found_;
  std::set<std::string> keys_;
  bool started_ = false;
};

// Debian's auditd started by a test (or benchmark) with its own config directory and log in a
// temporary directory, no plugins, `-s nochange` (the guard owns `enabled`). stop() sends
// SIGTERM; auditd gives the pid back itself.
class TestAuditd {
 public:
  static const char* binary() {
    if (is_executable("/usr/sbin/auditd")) return "/usr/sbin/auditd";
    if (is_executable("/sbin/auditd")) return "/sbin/auditd";
    return nullptr;
  }

  ~TestAuditd() { stop(); }

  // Starts auditd and waits until the kernel reports it as the audit daemon.
  bool start(netlink::AuditControl& control, std::string& error) {
    if (binary() == nullptr) {
      error = "auditd not installed";
      return false;
    }
    char dir_template[] = "/tmp/aurelay-auditd-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) {
      error = "mkdtemp failed";
      return false;
    }
    dir_ = dir_template;
    mkdir((dir_ + "/plugins.d").c_str(), 0750);
    std::ofstream conf(dir_ + "/auditd.conf");
    conf << "local_events = yes\nwrite_logs = yes\nlog_file = " << log_path()
         << "\nlog_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 50\n"
            "max_log_file = 1024\nnum_logs = 2\nmax_log_file_action = IGNORE\n"
            "space_left = 2\nspace_left_action = IGNORE\nadmin_space_left = 1\n"
            "admin_space_left_action = IGNORE\ndisk_full_action = IGNORE\n"
            "disk_error_action = IGNORE\nname_format = NONE\npriority_boost = 0\n"
            "q_depth = 2000\noverflow_action = IGNORE\nend_of_event_timeout = 2\n"
            "plugin_dir = "
         << dir_ << "/plugins.d\n";
    conf.close();
    chmod((dir_ + "/auditd.conf").c_str(), 0640);
    std::vector<std::string> argv{binary(), "-n", "-s", "nochange", "-c", dir_};
    int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = ::open((dir_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = spawn_program(argv, in_fd, out_fd, out_fd, error);
    if (in_fd >= 0) ::close(in_fd);
    if (out_fd >= 0) ::close(out_fd);
    if (pid_ < 0) return false;
    for (int i = 0; i < 100; ++i) {
      Result<netlink::AuditStatus> status = control.get_status();
      if (!status) error = status.error();
      if (status && status->pid == static_cast<std::uint32_t>(pid_)) return true;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        error = "auditd exited at start: " + read_file(dir_ + "/stdout");
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error = "auditd did not register within 5 s";
    return false;
  }

  pid_t pid() const { return pid_; }
  std::string log_path() const { return dir_ + "/audit.log"; }
  std::string log() const { return read_file(log_path()); }

  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
      pid_ = -1;
    }
    if (!dir_.empty()) {
      for (const char* name : {"/audit.log", "/audit.log.1", "/auditd.conf", "/stdout"})
        unlink((dir_ + name).c_str());
      rmdir((dir_ + "/plugins.d").c_str());
      rmdir(dir_.c_str());
      dir_.clear();
    }
  }

 private:
  pid_t pid_ = -1;
  std::string dir_;
};

}  // namespace aurelay::testing

// Declares `guard` and starts it: skips the test where the kernel refuses audit, fails it on
// unexpected errors.
#define AURELAY_KERNEL_GUARD_OR_SKIP(guard)                                               \
  ::aurelay::testing::KernelAuditGuard guard;                                             \
  do {                                                                                    \
    std::string guard##_reason;                                                           \
    auto guard##_state = guard.start(guard##_reason);                                     \
    if (guard##_state == ::aurelay::testing::KernelAuditGuard::Availability::unavailable) \
      GTEST_SKIP() << guard##_reason;                                                     \
    if (guard##_state == ::aurelay::testing::KernelAuditGuard::Availability::error)       \
      FAIL() << "kernel audit guard: " << guard##_reason;                                 \
  } while (false)
