// Loads rules through the real auditctl into the running kernel. Needs root and the audit
// subsystem; skips otherwise. Every test leaves the kernel as it found it: the rules it loaded
// deleted, backlog settings, failure mode and `enabled` restored.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "rules/rules_dir.h"
#include "rules/rules_loader.h"
#include "test_support.h"

namespace aurelay::rules {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAuditctl = "/sbin/auditctl";

fs::path example_rules() {
  return fs::path(AURELAY_TESTS_DIR) / ".." / "rules" / "example_audit.rules";
}

// Rule lines of a rules file: "-a", "-A" and "-w" lines (each adds one rule auditctl -l lists).
int count_rule_lines(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    if (line.rfind("-a ", 0) == 0 || line.rfind("-A ", 0) == 0 || line.rfind("-w ", 0) == 0)
      ++count;
  }
  return count;
}

// 1-based numbers of the lines of `file` equal to `text` (trailing blanks ignored).
std::vector<int> lines_equal_to(const fs::path& file, const std::string& text) {
  std::ifstream in(file);
  std::string line;
  std::vector<int> numbers;
  for (int number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line == text) numbers.push_back(number);
  }
  return numbers;
}

// The line `number` of `file`.
std::string line_of(const fs::path& file, int number) {
  std::ifstream in(file);
  std::string line;
  for (int at = 1; std::getline(in, line); ++at)
    if (at == number) return line;
  return "";
}

class KernelRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access(kAuditctl, X_OK) != 0) GTEST_SKIP() << "auditctl not installed";
    auto settings = read_kernel_settings(kAuditctl);
    if (!settings) GTEST_SKIP() << "kernel audit not available: " << settings.error();
    if (settings->enabled == 2) GTEST_SKIP() << "audit configuration is locked (-e 2)";
    saved_ = *settings;
    auto rules = list_rules(kAuditctl);
    ASSERT_TRUE(rules.ok()) << rules.error();
    rules_before_ = *rules;
    armed_ = true;
    std::string pattern = (fs::temp_directory_path() / "aurelay-rules-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }

  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!armed_) return;
    // Delete exactly the rules that were not there before.
    auto now = list_rules(kAuditctl);
    ASSERT_TRUE(now.ok()) << now.error();
    std::vector<std::string> added;
    for (const auto& rule : *now) {
      if (std::find(rules_before_.begin(), rules_before_.end(), rule) == rules_before_.end()) {
        added.push_back(rule);
      }
    }
    if (rules_before_.empty()) {
      // Everything loaded is ours. auditctl -l lists an exit,never rule on a path (the example's
      // -A exit,never -F path=/bin/grep -F perm=x) as a watch that -W cannot delete: -D can.
      const ProgramResult deleted = run_program({kAuditctl, "-D"});
      EXPECT_EQ(deleted.exit_status, 0) << deleted.output;
    } else {
      const Status deleted = delete_rules(kAuditctl, added);
      EXPECT_TRUE(deleted.ok()) << deleted.error();
    }
    const Status restored = restore_kernel_settings(kAuditctl, saved_);
    EXPECT_TRUE(restored.ok()) << restored.error();
    auto after = read_kernel_settings(kAuditctl);
    ASSERT_TRUE(after.ok()) << after.error();
    EXPECT_EQ(after->enabled, saved_.enabled);
    EXPECT_EQ(after->backlog_limit, saved_.backlog_limit);
    EXPECT_EQ(after->backlog_wait_time, saved_.backlog_wait_time);
    EXPECT_EQ(after->failure, saved_.failure);
    EXPECT_EQ(after->rate_limit, saved_.rate_limit);
    auto rules_after = list_rules(kAuditctl);
    ASSERT_TRUE(rules_after.ok()) << rules_after.error();
    EXPECT_EQ(*rules_after, rules_before_);
  }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path file = dir_ / name;
    std::ofstream(file) << text;
    return file;
  }

  KernelAuditSettings saved_;
  std::vector<std::string> rules_before_;
  bool armed_ = false;
  fs::path dir_;
};

// The shipped rules are audisp-json's example rules, which say -i: lines this host refuses (watches
// on paths it lacks, a syscall auditctl does not know here) and its duplicate -w /etc/sudoers line
// are reported with their numbers, and every other rule line is loaded.
TEST_F(KernelRulesTest, ExampleRulesLoadPastTheirFailedLinesAsTheirMinusISays) {
  // The example starts with -D, which would delete rules someone else loaded.
  if (!rules_before_.empty()) GTEST_SKIP() << "rules are loaded; the example's -D would drop them";
  const fs::path file = example_rules();
  const std::vector<int> ignore_lines = lines_equal_to(file, "-i");
  ASSERT_EQ(ignore_lines.size(), 1u);
  const std::vector<int> sudoers_lines = lines_equal_to(file, "-w /etc/sudoers -p wa -k user");
  ASSERT_EQ(sudoers_lines.size(), 2u);

  const RulesLoadResult result = load_rules_file(file.string(), kAuditctl);
  ASSERT_TRUE(result.ok) << result.error << "\n" << result.output;
  EXPECT_EQ(result.exit_status, 0);  // -i: auditctl always succeeds
  EXPECT_EQ(result.continue_line, ignore_lines[0]);
  EXPECT_EQ(result.stopped_at_line, 0);
  EXPECT_TRUE(result.error.empty()) << result.error;

  // Every failed line comes after -i, is a rule line, and says why. The second
  // -w /etc/sudoers is a duplicate on every host.
  bool duplicate_reported = false;
  for (const RuleLineError& failure : result.line_errors) {
    EXPECT_GT(failure.line, ignore_lines[0]);
    const std::string text = line_of(file, failure.line);
    EXPECT_TRUE(text.starts_with("-a ") || text.starts_with("-A ") || text.starts_with("-w "))
        << failure.line << ": " << text;
    EXPECT_FALSE(failure.message.empty());
    EXPECT_NE(failure.message, "rejected") << failure.line;
    if (failure.line == sudoers_lines[1]) {
      duplicate_reported = true;
      EXPECT_NE(failure.message.find("Rule exists"), std::string::npos) << failure.message;
    }
    EXPECT_EQ(describe_line_error(failure),
              file.string() + ":" + std::to_string(failure.line) + ": " + failure.message);
  }
  EXPECT_TRUE(duplicate_reported) << result.output;

  // Each rule line either loaded or is reported.
  auto rules = list_rules(kAuditctl);
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_EQ(static_cast<int>(rules->size()),
            count_rule_lines(file) - static_cast<int>(result.line_errors.size()))
      << result.output;
  // The keys MozDef's alerts read.
  EXPECT_NE(std::find(rules->begin(), rules->end(), "-w /etc/passwd -p wa -k user"), rules->end());
  EXPECT_NE(std::find(rules->begin(), rules->end(), "-w /etc/audit -p wa -k audit"), rules->end());
  EXPECT_NE(
      std::find(rules->begin(), rules->end(), "-a always,exit -F arch=b64 -S execve -F key=exec"),
      rules->end());
  EXPECT_NE(
      std::find(rules->begin(), rules->end(), "-a always,exit -F arch=b64 -S listen -F key=net"),
      rules->end());

  // Its settings: -b 32768, -e 1, -r 1000 (the TearDown puts them back).
  auto settings = read_kernel_settings(kAuditctl);
  ASSERT_TRUE(settings.ok()) << settings.error();
  EXPECT_EQ(settings->backlog_limit, 32768);
  EXPECT_EQ(settings->rate_limit, 1000);
  EXPECT_EQ(settings->enabled, 1);
  EXPECT_EQ(settings->failure, saved_.failure);
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
  auto rules = list_rules(kAuditctl);
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_EQ(std::count(rules->begin(), rules->end(),
                       "-a always,exit -F arch=b64 -S getppid -F key=aurelay-rules-test"),
            1);
  EXPECT_EQ(std::count(rules->begin(), rules->end(),
                       "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-rules-test"),
            0);
}

// rules_dir loads into the kernel exactly what augenrules' audit.rules loads (same `auditctl -l`),
// and a failing line is reported with the file and line of the rules.d file it came from.
TEST_F(KernelRulesTest, RulesDirLoadsWhatAugenrulesLoads) {
  const fs::path rules_d = dir_ / "rules.d";
  fs::create_directories(rules_d);
  write("rules.d/10-base.rules",
        "## base\n-b 8192\n-a always,exit -F arch=b64 -S getppid -F key=aurelay-rulesdir\n");
  write("rules.d/30-watch.rules", "-w /etc/passwd -p wa -k aurelay-rulesdir\n");
  write("rules.d/9-first.rules",
        "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-rulesdir\n-e 1\n");
  std::string why;
  const std::optional<std::string> augenrules = testing::augenrules_output(dir_, why);
  if (!augenrules) GTEST_SKIP() << why;

  const fs::path generated = write("audit.rules", *augenrules);
  const RulesLoadResult by_augenrules = load_rules_file(generated.string(), kAuditctl);
  ASSERT_TRUE(by_augenrules.ok) << by_augenrules.error << by_augenrules.output;
  auto listed_augenrules = list_rules(kAuditctl);
  ASSERT_TRUE(listed_augenrules.ok()) << listed_augenrules.error();
  std::vector<std::string> added;
  for (const auto& rule : *listed_augenrules)
    if (std::find(rules_before_.begin(), rules_before_.end(), rule) == rules_before_.end())
      added.push_back(rule);
  ASSERT_EQ(added.size(), 3u) << by_augenrules.output;
  ASSERT_TRUE(delete_rules(kAuditctl, added).ok());

  Result<MergedRules> merged = merge_rules_dir(rules_d.string());
  ASSERT_TRUE(merged.ok()) << merged.error();
  const RulesLoadResult by_rules_dir = load_merged_rules(*merged, kAuditctl);
  ASSERT_TRUE(by_rules_dir.ok) << by_rules_dir.error << by_rules_dir.output;
  auto listed_rules_dir = list_rules(kAuditctl);
  ASSERT_TRUE(listed_rules_dir.ok()) << listed_rules_dir.error();
  EXPECT_EQ(*listed_rules_dir, *listed_augenrules);
}

TEST_F(KernelRulesTest, RulesDirReportsAFailedLineWithItsOwnFileAndLine) {
  const fs::path rules_d = dir_ / "rules.d";
  fs::create_directories(rules_d);
  write("rules.d/10-ok.rules", "-a always,exit -F arch=b64 -S getppid -F key=aurelay-rulesdir\n");
  const fs::path bad = write("rules.d/20-bad.rules",
                             "# comment\n\n-a always,exit -F arch=b64 -S nosuchcall -F key=x\n");
  Result<MergedRules> merged = merge_rules_dir(rules_d.string());
  ASSERT_TRUE(merged.ok()) << merged.error();
  const RulesLoadResult result = load_merged_rules(*merged, kAuditctl);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(result.line_errors.size(), 1u) << result.output;
  EXPECT_EQ(result.line_errors[0].where, bad.string() + ":3");
  EXPECT_EQ(result.error, bad.string() + ":3: Syscall name unknown: nosuchcall");
}

TEST_F(KernelRulesTest, FailedLineBeforeMinusIStopsTheLoad) {
  const fs::path file = write("before.rules",
                              "-a always,exit -F arch=b64 -S getppid -F key=aurelay-test-rules\n"
                              "-a always,exit -F arch=b64 -S nosuchcall -F key=aurelay-test-rules\n"
                              "-i\n"
                              "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-test-rules\n");
  const RulesLoadResult result = load_rules_file(file.string(), kAuditctl);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.continue_line, 3);
  EXPECT_EQ(result.stopped_at_line, 2);
  ASSERT_EQ(result.line_errors.size(), 1u) << result.output;
  EXPECT_EQ(result.error, file.string() + ":2: Syscall name unknown: nosuchcall");
  auto rules = list_rules(kAuditctl);
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_EQ(std::count(rules->begin(), rules->end(),
                       "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-test-rules"),
            0);
}

TEST_F(KernelRulesTest, FailedLinesAfterMinusIAreReportedAndTheOthersLoad) {
  const fs::path file = write("ignore.rules",
                              "# test rules\n"
                              "-i\n"
                              "-a always,exit -F arch=b64 -S getppid -F key=aurelay-test-rules\n"
                              "-a always,exit -F arch=b64 -S nosuchcall -F key=aurelay-test-rules\n"
                              "-w /nonexistent-aurelay-dir/file -p wa -k aurelay-test-rules\n"
                              "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-test-rules\n");
  const RulesLoadResult result = load_rules_file(file.string(), kAuditctl);
  ASSERT_TRUE(result.ok) << result.error << result.output;
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.continue_line, 2);
  EXPECT_EQ(result.stopped_at_line, 0);
  ASSERT_EQ(result.line_errors.size(), 2u) << result.output;
  EXPECT_EQ(result.line_errors[0].line, 4);
  EXPECT_EQ(result.line_errors[0].message, "Syscall name unknown: nosuchcall");
  EXPECT_EQ(result.line_errors[1].line, 5);
  EXPECT_NE(result.line_errors[1].message.find("No such file or directory"), std::string::npos)
      << result.line_errors[1].message;
  auto rules = list_rules(kAuditctl);
  ASSERT_TRUE(rules.ok()) << rules.error();
  for (const char* rule : {"-a always,exit -F arch=b64 -S getppid -F key=aurelay-test-rules",
                           "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-test-rules"})
    EXPECT_EQ(std::count(rules->begin(), rules->end(), rule), 1) << rule;
}

// -c goes on past a failed line too, but auditctl then exits 1: still a complete load. (auditctl
// 3.0.9 says nothing when the first -a rule of a file names an unknown syscall: the failing rule
// comes second here.)
TEST_F(KernelRulesTest, MinusCGoesOnPastFailedLinesDespiteTheExitStatus) {
  const fs::path file = write("continue.rules",
                              "-c\n"
                              "-a always,exit -F arch=b64 -S getppid -F key=aurelay-test-rules\n"
                              "-a always,exit -F arch=b64 -S nosuchcall -F key=aurelay-test-rules\n"
                              "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-test-rules\n");
  const RulesLoadResult result = load_rules_file(file.string(), kAuditctl);
  ASSERT_TRUE(result.ok) << result.error << result.output;
  EXPECT_NE(result.exit_status, 0);
  EXPECT_EQ(result.continue_line, 1);
  ASSERT_EQ(result.line_errors.size(), 1u) << result.output;
  EXPECT_EQ(result.line_errors[0].line, 3);
  auto rules = list_rules(kAuditctl);
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_EQ(std::count(rules->begin(), rules->end(),
                       "-a always,exit -F arch=b64 -S getpgrp -F key=aurelay-test-rules"),
            1);
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

TEST(RulesLoader, ContinueOnErrorLineIsTheFirstLineHoldingMinusIOrMinusCAlone) {
  testing::TempDir dir;
  auto first = [&](const std::string& text) {
    const fs::path file = dir / "test.rules";
    testing::write_file(file, text);
    return continue_on_error_line(file.string());
  };
  EXPECT_EQ(first("-D\n-b 320\n"), 0);
  EXPECT_EQ(first("# Ignore errors: -i\n-D\n  -i  \n-c\n"), 3);
  EXPECT_EQ(first("-D\n\n-c\n-i\n"), 3);
  EXPECT_EQ(first("-a always,exit -S getppid -k -i\n"), 0);
  EXPECT_EQ(continue_on_error_line("/nonexistent/audit.rules"), 0);
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
