// aurelay as the audit daemon with the shipped rules (audisp-json's example rules, which say -i):
// the lines this host refuses are warnings naming file and line and counted in the state file,
// the others load, the file's kernel settings (-b 32768, -e 1, -r 1000) are in force while it
// runs, records the kernel drops above -r 1000 are counted as kernel lost, and at exit the rules
// are deleted and every setting is back as found. With rules_errors = fatal the same file makes
// aurelay refuse to start, leaving the kernel as found.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kernel_guard.h"
#include "live_aurelay.h"
#include "rules/rules_loader.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

std::string auditctl_path() {
  return is_executable("/sbin/auditctl") ? "/sbin/auditctl" : "/usr/sbin/auditctl";
}

// Lines that add a rule ("-a", "-A", "-w").
std::uint64_t rule_lines(const std::string& file) {
  std::ifstream in(file);
  std::uint64_t count = 0;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("-a ") || line.starts_with("-A ") || line.starts_with("-w ")) ++count;
  return count;
}

// The 1-based number of the second line equal to `text`, or 0.
int second_line_equal_to(const std::string& file, const std::string& text) {
  std::ifstream in(file);
  int seen = 0;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line == text && ++seen == 2) return number;
  }
  return 0;
}

std::size_t loaded_rule_count() {
  Result<std::vector<std::string>> rules = rules::list_rules(auditctl_path());
  EXPECT_TRUE(rules.ok()) << rules.error();
  return rules ? rules->size() : 0;
}

// The shipped rules start with -D: the tests only run where no rules are loaded, and delete
// whatever is left (everything is theirs) if a failed assertion ends them early.
class NoRulesLeftBehind {
 public:
  ~NoRulesLeftBehind() {
    if (loaded_rule_count() != 0) {
      ADD_FAILURE() << "rules left loaded; deleting them";
      run_command({auditctl_path(), "-D"});
    }
  }
};

// listen() on a bound TCP socket `calls` times: each is one audited event for the shipped
// rules' `-S listen -k net` (several records), far more than 1000 records in a second.
void listen_storm(int calls) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  for (int i = 0; i < calls; ++i) listen(fd, 1 + i % 8);
  close(fd);
}

std::vector<std::string> aurelay_argv(const TempDir& dir, const std::string& config,
                                      std::vector<std::string> extra) {
  std::vector<std::string> argv{AURELAY_BINARY,
                                "--config",
                                config,
                                "--rules_file",
                                kShippedRules,
                                "--auditctl",
                                auditctl_path(),
                                "--backlog_wait_time",
                                "0",
                                "--state_file",
                                dir / "aurelay.state",
                                "--output",
                                dir / "out.json",
                                "--log_target",
                                "stderr",
                                "--log_level",
                                "info"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(DaemonRules, ShippedRulesLoadPastTheirFailedLinesAndTheKernelIsPutBackAtExit) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (loaded_rule_count() != 0)
    GTEST_SKIP() << "audit rules are loaded on this host; the shipped rules would replace them";
  NoRulesLeftBehind cleanup;
  const netlink::AuditStatus before = guard.status();
  ASSERT_EQ(before.pid, 0u) << "another process is the audit daemon";
  const int duplicate_line = second_line_equal_to(kShippedRules, "-w /etc/sudoers -p wa -k user");
  ASSERT_NE(duplicate_line, 0);

  TempDir dir;
  // enabled = keep: only the file's -e 1 enables auditing, and it must be put back at exit.
  AurelayProcess aurelay(aurelay_argv(dir, private_config(dir), {"--enabled", "keep"}),
                         dir / "stderr.log");
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 15s)) << aurelay.stderr_text();
  // The listen rule is the file's last line.
  ASSERT_TRUE(wait_for([] { return loaded_rule_keys("net").count("net") != 0; }, 20s, 50ms))
      << aurelay.stderr_text();
  ASSERT_TRUE(
      wait_for([&] { return aurelay.stderr_text().find(" started: ") != std::string::npos; }, 10s))
      << aurelay.stderr_text();
  ASSERT_TRUE(aurelay.running()) << aurelay.stderr_text();

  const netlink::AuditStatus running = guard.status();
  EXPECT_EQ(running.enabled, 1u);
  EXPECT_EQ(running.backlog_limit, 32768u);  // -b 32768 wins over the default backlog_limit 8192
  EXPECT_EQ(running.rate_limit, 1000u);
  EXPECT_EQ(running.backlog_wait_time, 0u);  // not in the file: the configured 0

  const std::string log = aurelay.stderr_text();
  EXPECT_NE(log.find(kShippedRules + ":" + std::to_string(duplicate_line) +
                     ": Error sending add rule data request (Rule exists) (rule not loaded;"),
            std::string::npos)
      << log;

  std::string state = request_state_file(aurelay.pid(), dir / "aurelay.state");
  const std::uint64_t failed = state_number(state, "rules failed lines");
  const std::uint64_t loaded = state_number(state, "rules loaded");
  EXPECT_GE(failed, 1u) << state;
  EXPECT_EQ(loaded + failed, rule_lines(kShippedRules)) << state;
  EXPECT_EQ(loaded, loaded_rule_count()) << state;

  // -r 1000: the kernel drops what exceeds it, and aurelay reports it as kernel lost.
  listen_storm(20000);
  wait_for(
      [&] {
        state = request_state_file(aurelay.pid(), dir / "aurelay.state");
        return state_number(state, "kernel lost") > 0;
      },
      5s, 200ms);
  EXPECT_GT(state_number(state, "kernel lost"), 0u) << state;

  EXPECT_EQ(aurelay.stop(SIGTERM), 0) << aurelay.stderr_text();
  EXPECT_EQ(loaded_rule_count(), 0u) << aurelay.stderr_text();
  expect_kernel_as_found(before, guard.status());
}

TEST(DaemonRules, FatalRulesErrorsRefusesTheShippedRulesAndLeavesTheKernelAsFound) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (loaded_rule_count() != 0)
    GTEST_SKIP() << "audit rules are loaded on this host; the shipped rules would replace them";
  NoRulesLeftBehind cleanup;
  const netlink::AuditStatus before = guard.status();
  ASSERT_EQ(before.pid, 0u) << "another process is the audit daemon";

  TempDir dir;
  AurelayProcess aurelay(aurelay_argv(dir, private_config(dir), {"--rules_errors", "fatal"}),
                         dir / "stderr.log");
  EXPECT_EQ(aurelay.wait_exit(30s), 2) << aurelay.stderr_text();
  const std::string log = aurelay.stderr_text();
  EXPECT_NE(log.find("rules_errors = fatal"), std::string::npos) << log;
  EXPECT_NE(log.find(kShippedRules + ":"), std::string::npos) << log;
  EXPECT_EQ(loaded_rule_count(), 0u) << log;
  expect_kernel_as_found(before, guard.status());
}

// The start of the tests below: root and the audit subsystem, no rules loaded and no audit
// daemon registered (`before` is the kernel's status, to find again at the end).
#define AURELAY_EMPTY_KERNEL_OR_SKIP(guard, before)                                    \
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);                                                 \
  NoRulesLeftBehind cleanup_##guard;                                                   \
  if (loaded_rule_count() != 0) GTEST_SKIP() << "audit rules are loaded on this host"; \
  const netlink::AuditStatus before = (guard).status();                                \
  ASSERT_EQ((before).pid, 0u) << "another process is the audit daemon"

// rules_dir as the daemon loads it: every *.rules file merged like augenrules, the rules in the
// kernel while it runs and deleted at exit; a failing line stops the start naming its own file.
std::vector<std::string> rules_dir_argv(const TempDir& dir, const std::filesystem::path& rules_d) {
  return {AURELAY_BINARY,
          "--config",
          private_config(dir),
          "--rules_file",
          "",
          "--rules_dir",
          rules_d.string(),
          "--auditctl",
          auditctl_path(),
          "--backlog_wait_time",
          "0",
          "--state_file",
          (dir / "aurelay.state").string(),
          "--output",
          (dir / "out.json").string(),
          "--log_target",
          "stderr"};
}

TEST(DaemonRules, RulesDirIsMergedLoadedAndDeletedAtExit) {
  AURELAY_EMPTY_KERNEL_OR_SKIP(guard, before);
  TempDir dir;
  const std::filesystem::path rules_d = dir / "rules.d";
  std::filesystem::create_directories(rules_d);
  write_file(rules_d / "10-base.rules", "# base\n-a always,exit -F arch=b64 -S getppid -k rd-a\n");
  write_file(rules_d / "20-more.rules", "-w /etc/passwd -p wa -k rd-b\n");

  AurelayProcess aurelay(rules_dir_argv(dir, rules_d), dir / "stderr.log");
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 15s)) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for(
      [] {
        const auto keys = loaded_rule_keys("rd-");
        return keys.count("rd-a") != 0 && keys.count("rd-b") != 0;
      },
      20s, 50ms))
      << aurelay.stderr_text();
  EXPECT_NE(aurelay.stderr_text().find("rules_dir " + rules_d.string() + ": 2 file(s) merged"),
            std::string::npos)
      << aurelay.stderr_text();
  EXPECT_EQ(aurelay.stop(SIGTERM), 0) << aurelay.stderr_text();
  EXPECT_EQ(loaded_rule_count(), 0u) << aurelay.stderr_text();
  expect_kernel_as_found(before, guard.status());
}

TEST(DaemonRules, RulesDirFailedLineStopsTheStartNamingItsFileAndLine) {
  AURELAY_EMPTY_KERNEL_OR_SKIP(guard, before);
  TempDir dir;
  const std::filesystem::path rules_d = dir / "rules.d";
  std::filesystem::create_directories(rules_d);
  write_file(rules_d / "10-base.rules", "-a always,exit -F arch=b64 -S getppid -k rd-a\n");
  write_file(rules_d / "20-bad.rules", "# bad\n\n-a always,exit -F arch=b64 -S nosuchcall\n");

  AurelayProcess aurelay(rules_dir_argv(dir, rules_d), dir / "stderr.log");
  EXPECT_EQ(aurelay.wait_exit(30s), 2) << aurelay.stderr_text();
  const std::string log = aurelay.stderr_text();
  EXPECT_NE(log.find((rules_d / "20-bad.rules").string() + ":3: Syscall name unknown: nosuchcall"),
            std::string::npos)
      << log;
  EXPECT_EQ(loaded_rule_count(), 0u) << log;
  expect_kernel_as_found(before, guard.status());
}

// Rules stay loaded: someone else's auditctl -D is seen in the stream (CONFIG_CHANGE
// op=remove_rule) and aurelay's set is loaded again within 2 s, with one warning naming who did it.
TEST(DaemonRules, RulesDeletedByAnotherProcessAreLoadedAgain) {
  AURELAY_EMPTY_KERNEL_OR_SKIP(guard, before);
  TempDir dir;
  const std::filesystem::path rules_d = dir / "rules.d";
  std::filesystem::create_directories(rules_d);
  write_file(rules_d / "10-base.rules",
             "-a always,exit -F arch=b64 -S getppid -k rd-a\n-w /etc/passwd -p wa -k rd-b\n");
  auto both_loaded = [] {
    const auto keys = loaded_rule_keys("rd-");
    return keys.count("rd-a") != 0 && keys.count("rd-b") != 0;
  };

  AurelayProcess aurelay(rules_dir_argv(dir, rules_d), dir / "stderr.log");
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 15s)) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for(both_loaded, 20s, 50ms)) << aurelay.stderr_text();
  ASSERT_TRUE(
      wait_for([&] { return aurelay.stderr_text().find(" started: ") != std::string::npos; }, 10s))
      << aurelay.stderr_text();

  const CommandResult deleted = run_command({auditctl_path(), "-D"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output();
  EXPECT_TRUE(wait_for(both_loaded, 2s, 20ms)) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for(
      [&] { return aurelay.stderr_text().find("re-applied 2 rule(s)") != std::string::npos; }, 2s))
      << aurelay.stderr_text();
  const std::string log = aurelay.stderr_text();
  EXPECT_NE(log.find("audit rules deleted by auid="), std::string::npos) << log;
  EXPECT_NE(log.find("exe=" + std::filesystem::canonical(auditctl_path()).string()),
            std::string::npos)
      << log;
  const std::string state = request_state_file(aurelay.pid(), dir / "aurelay.state");
  EXPECT_EQ(state_number(state, "rules repairs"), 1u) << state;

  EXPECT_EQ(aurelay.stop(SIGTERM), 0) << aurelay.stderr_text();
  EXPECT_EQ(loaded_rule_count(), 0u) << aurelay.stderr_text();
  expect_kernel_as_found(before, guard.status());
}

TEST(DaemonRules, RulesRepairNoLeavesDeletedRulesDeleted) {
  AURELAY_EMPTY_KERNEL_OR_SKIP(guard, before);
  TempDir dir;
  const std::filesystem::path rules_d = dir / "rules.d";
  std::filesystem::create_directories(rules_d);
  write_file(rules_d / "10-base.rules", "-a always,exit -F arch=b64 -S getppid -k rd-a\n");
  std::vector<std::string> argv = rules_dir_argv(dir, rules_d);
  argv.insert(argv.end(), {"--rules_repair", "no"});
  AurelayProcess aurelay(argv, dir / "stderr.log");
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 15s)) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for([] { return loaded_rule_keys("rd-").count("rd-a") != 0; }, 20s, 50ms))
      << aurelay.stderr_text();
  ASSERT_TRUE(
      wait_for([&] { return aurelay.stderr_text().find(" started: ") != std::string::npos; }, 10s))
      << aurelay.stderr_text();
  ASSERT_EQ(run_command({auditctl_path(), "-D"}).exit_code, 0);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(loaded_rule_count(), 0u) << aurelay.stderr_text();
  EXPECT_EQ(aurelay.stderr_text().find("re-applied"), std::string::npos) << aurelay.stderr_text();
  EXPECT_EQ(aurelay.stop(SIGTERM), 0) << aurelay.stderr_text();
  expect_kernel_as_found(before, guard.status());
}

}  // namespace
}  // namespace aurelay::testing
