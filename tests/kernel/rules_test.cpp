// Loads rules through the real auditctl into the running kernel. Needs root and the audit
// subsystem; skips otherwise. Every test leaves the kernel as it found it: the rules it loaded
// deleted, backlog settings, failure mode and `enabled` restored.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "rules/rules_loader.h"
#include "test_support.h"

namespace aurelay::rules {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAuditctl = "/sbin/auditctl";

fs::path example_rules() {
  return fs::path(AURELAY_TESTS_DIR) / ".." / "rules" / "example_audit.rules";
}

// Rule lines of a rules file: "-a" and "-w" lines (what auditctl -l lists back).
int count_rule_lines(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    if (line.rfind("-a ", 0) == 0 || line.rfind("-w ", 0) == 0) ++count;
  }
  return count;
}

class KernelRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access(kAuditctl, X_OK) != 0) GTEST_SKIP() << "auditctl not installed";
    std::string error;
    auto settings = read_kernel_settings(kAuditctl, error);
    if (!settings) GTEST_SKIP() << "kernel audit not available: " << error;
    if (settings->enabled == 2) GTEST_SKIP() << "audit configuration is locked (-e 2)";
    saved_ = *settings;
    auto rules = list_rules(kAuditctl, error);
    ASSERT_TRUE(rules) << error;
    rules_before_ = *rules;
    armed_ = true;
    std::string pattern = (fs::temp_directory_path() / "aurelay-rules-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }

  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!armed_) return;
    std::string error;
    // Delete exactly the rules that were not there before.
    auto now = list_rules(kAuditctl, error);
    ASSERT_TRUE(now) << error;
    std::vector<std::string> added;
    for (const auto& rule : *now) {
      if (std::find(rules_before_.begin(), rules_before_.end(), rule) == rules_before_.end()) {
        added.push_back(rule);
      }
    }
    EXPECT_TRUE(delete_rules(kAuditctl, added, error)) << error;
    EXPECT_TRUE(restore_kernel_settings(kAuditctl, saved_, error)) << error;
    auto after = read_kernel_settings(kAuditctl, error);
    ASSERT_TRUE(after) << error;
    EXPECT_EQ(after->enabled, saved_.enabled);
    EXPECT_EQ(after->backlog_limit, saved_.backlog_limit);
    EXPECT_EQ(after->backlog_wait_time, saved_.backlog_wait_time);
    EXPECT_EQ(after->failure, saved_.failure);
    auto rules_after = list_rules(kAuditctl, error);
    ASSERT_TRUE(rules_after) << error;
    EXPECT_EQ(*rules_after, rules_before_);
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path file = dir_ / name;
    std::ofstream(file) << text;
    return file;
  }

  KernelAuditSettings saved_;
  std::vector<std::string> rules_before_;
  bool armed_ = false;
  fs::path dir_;
};

TEST_F(KernelRulesTest, ExampleRulesLoadCleanlyAndAllAreListed) {
  // The example starts with -D, which would delete rules someone else loaded.
  if (!rules_before_.empty()) GTEST_SKIP() << "rules are loaded; the example's -D would drop them";
  const RulesLoadResult result = load_rules_file(example_rules().string(), kAuditctl);
  ASSERT_TRUE(result.ok) << result.error << "\n" << result.output;
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_TRUE(result.line_errors.empty());

  std::string error;
  auto rules = list_rules(kAuditctl, error);
  ASSERT_TRUE(rules) << error;
  EXPECT_EQ(static_cast<int>(rules->size()), count_rule_lines(example_rules()));
  EXPECT_NE(std::find(rules->begin(), rules->end(), "-w /etc/passwd -p wa -k identity"),
            rules->end());
  EXPECT_NE(std::find(rules->begin(), rules->end(),
                      "-a always,exit -F arch=b64 -S execve,execveat -F key=exec"),
            rules->end());

  auto settings = read_kernel_settings(kAuditctl, error);
  ASSERT_TRUE(settings) << error;
  EXPECT_EQ(settings->backlog_limit, 8192);
  EXPECT_EQ(settings->backlog_wait_time, 60000);
  EXPECT_EQ(settings->failure, 1);
  EXPECT_NE(settings->enabled, 2);
}

TEST_F(KernelRulesTest, ExampleRulesNeverLockOrPanic) {
  std::ifstream in(example_rules());
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_NE(line.rfind("-e 2", 0), 0u) << line;
    EXPECT_NE(line.rfind("-f 2", 0), 0u) << line;
  }
}

TEST_F(KernelRulesTest, BadLineIsReportedWithItsNumber) {
  const fs::path file = write("bad.rules",
                              "# keyed test rules\n"
                              "-a always,exit -F arch=b64 -S getppid -F key=aurelay-rules-test\n"
                              "\n"
                              "-a always,exit -F arch=b64 -S nosuchcall -F key=aurelay-rules-test\n"
                              "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-rules-test\n");
  const RulesLoadResult result = load_rules_file(file.string(), kAuditctl);
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.auditctl_missing);
  EXPECT_NE(result.exit_status, 0);
  ASSERT_EQ(result.line_errors.size(), 1u) << result.output;
  EXPECT_EQ(result.line_errors[0].line, 4);
  EXPECT_EQ(result.line_errors[0].message, "Syscall name unknown: nosuchcall");
  EXPECT_EQ(result.error, file.string() + ":4: Syscall name unknown: nosuchcall");
  // auditctl stops at the failing line: the rule before it is loaded, the one after is not.
  std::string error;
  auto rules = list_rules(kAuditctl, error);
  ASSERT_TRUE(rules) << error;
  EXPECT_EQ(std::count(rules->begin(), rules->end(),
                       "-a always,exit -F arch=b64 -S getppid -F key=aurelay-rules-test"),
            1);
  EXPECT_EQ(std::count(rules->begin(), rules->end(),
                       "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-rules-test"),
            0);
}

TEST_F(KernelRulesTest, WatchInAMissingDirectoryIsReported) {
  const fs::path file =
      write("watch.rules", "-w /nonexistent-aurelay-dir/file -p wa -k aurelay-rules-test\n");
  const RulesLoadResult result = load_rules_file(file.string(), kAuditctl);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(result.line_errors.size(), 1u) << result.output;
  EXPECT_EQ(result.line_errors[0].line, 1);
  EXPECT_NE(result.line_errors[0].message.find("No such file or directory"), std::string::npos)
      << result.line_errors[0].message;
}

TEST(RulesLoader, MissingAuditctlIsAClearError) {
  const RulesLoadResult result =
      load_rules_file(example_rules().string(), "/nonexistent/sbin/auditctl");
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.auditctl_missing);
  EXPECT_EQ(result.error,
            "cannot run /nonexistent/sbin/auditctl (No such file or directory): install the "
            "auditd package for auditctl, set `auditctl` to its path, or set "
            "rules_missing_auditctl = skip");
}

TEST(RulesLoader, MissingRulesFileIsAnError) {
  if (::access(kAuditctl, X_OK) != 0) GTEST_SKIP() << "auditctl not installed";
  const RulesLoadResult result = load_rules_file("/nonexistent/audit.rules", kAuditctl);
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.auditctl_missing);
  EXPECT_EQ(result.error,
            "cannot read rules file /nonexistent/audit.rules: No such file or directory");
}

TEST(RulesLoader, RunProgramCapturesOutputWithoutAShell) {
  // An argument a shell would expand stays literal.
  const ProgramResult result = run_program({"/bin/echo", "$HOME", "*", "a;b"});
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.output, "$HOME * a;b\n");
  const ProgramResult failing = run_program({"/bin/false"});
  EXPECT_EQ(failing.exit_status, 1);
}

}  // namespace
}  // namespace aurelay::rules
