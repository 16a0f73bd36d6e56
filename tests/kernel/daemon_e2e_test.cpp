// End to end: aurelay as the audit daemon with the shipped aurelay.conf and the shipped
// example_audit.rules (less its rate limit), shipping to the MozDef test server
// (tests/mozdef_server.py) over HTTP. A user is added and deleted, a file under /etc is written and
// removed and a marker command runs; the matching MozDef documents must arrive. SIGCONT writes a
// plausible state file; SIGTERM ends it with status 0, and the kernel is left as found (no rules,
// pid 0, enabled, backlog).
//
// The binary under test is the built one (AURELAY_BINARY); the installed package is checked by
// tools/ci_package_check.sh.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel_guard.h"
#include "live_aurelay.h"
#include "output/mozdef_test_server.h"
#include "rules/rules_loader.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

const std::string kSourceDir = std::string(AURELAY_TESTS_DIR) + "/..";
const std::string kShippedConfig = kSourceDir + "/collector/aurelay.conf";

std::string auditctl_path() {
  return is_executable("/sbin/auditctl") ? "/sbin/auditctl" : "/usr/sbin/auditctl";
}

// The shipped aurelay.conf with `overrides` in place of its lines for those keys (a key may be
// set once per file), written to `path` with mode 0600 (owned by root: the test runs as root).
bool write_config(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::istringstream shipped(read_file(kShippedConfig));
  std::ofstream out(path);
  for (std::string line; std::getline(shipped, line);) {
    bool replaced = false;
    for (const auto& [key, value] : overrides) {
      std::string trimmed = line.substr(0, line.find('='));
      while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
      if (trimmed == key) replaced = true;
    }
    if (!replaced) out << line << '\n';
  }
  out << "\n# Test overrides\n";
  for (const auto& [key, value] : overrides) out << key << " = " << value << '\n';
  out.close();
  return out.good() && chmod(path.c_str(), 0600) == 0;
}

std::string member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) return "";
  return std::string(object[name].GetString(), object[name].GetStringLength());
}

std::string detail(const rapidjson::Value& document, const char* name) {
  if (!document.IsObject() || !document.HasMember("details")) return "";
  return member(document["details"], name);
}

// One expected document: a description and a predicate.
struct Expectation {
  std::string what;
  std::function<bool(const rapidjson::Value&)> matches;
};

std::vector<std::string> missing(const std::vector<rapidjson::Document>& documents,
                                 const std::vector<Expectation>& expectations) {
  std::vector<std::string> absent;
  for (const Expectation& expectation : expectations) {
    bool found = false;
    for (const rapidjson::Document& document : documents)
      if (expectation.matches(document)) {
        found = true;
        break;
      }
    if (!found) absent.push_back(expectation.what);
  }
  return absent;
}

// Removes the test user if a failed assertion left it behind.
class TestUser {
 public:
  explicit TestUser(std::string name) : name_(std::move(name)) {}
  ~TestUser() {
    if (getpwnam(name_.c_str()) != nullptr) run_command({"userdel", name_});
    if (getgrnam(name_.c_str()) != nullptr) run_command({"groupdel", name_});
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// The whole scenario; `run_as` is the config's `user` ("" = stay root).
void run_end_to_end(KernelAuditGuard& guard, const std::string& run_as) {
  if (!std::filesystem::exists(kShippedConfig) || !std::filesystem::exists(kShippedRules))
    GTEST_SKIP() << "shipped config or rules not found under " << kSourceDir;
  if (run_command({"python3", "--version"}).exit_code != 0) GTEST_SKIP() << "python3 missing";
  if (!is_executable("/usr/sbin/useradd") && !is_executable("/sbin/useradd"))
    GTEST_SKIP() << "useradd missing";
  Result<std::vector<std::string>> rules_before = rules::list_rules(auditctl_path());
  ASSERT_TRUE(rules_before.ok()) << rules_before.error();
  // The shipped rules file starts with -D: it would delete rules this host has loaded.
  if (!rules_before->empty())
    GTEST_SKIP() << "audit rules are loaded on this host; the shipped rules would replace them";
  const netlink::AuditStatus before = guard.status();
  ASSERT_EQ(before.pid, 0u) << "another process is the audit daemon";

  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  ASSERT_NE(server.port(), 0) << "tests/mozdef_server.py did not start";
  const std::string config_path = dir / "aurelay.conf";
  const std::string rules_path = dir / "audit.rules";
  ASSERT_TRUE(write_rules_without_rate_limit(rules_path));
  ASSERT_TRUE(write_config(
      config_path, {{"output", "http://127.0.0.1:" + std::to_string(server.port()) + "/_bulk"},
                    {"rules_file", rules_path},
                    {"auditctl", auditctl_path()},
                    {"state_file", dir / "aurelay.state"},
                    {"spool_dir", dir / "spool"},
                    {"serial_file", dir / "last-serial"},
                    {"dead_letter_file", dir / "dead-letter.ndjson"},
                    {"backlog_wait_time", "0"},
                    {"user", run_as},
                    {"log_target", "stderr"},
                    {"batch_flush_ms", "50"},
                    // the shipped config writes the local audit log: here into the test's dir
                    {"log_file", dir / "log" / "audit.log"}}));

  AurelayProcess aurelay({AURELAY_BINARY, "--config", config_path, "--log_level", "debug"},
                         dir / "stderr.log");
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 15s)) << aurelay.stderr_text();
  // The rules are loaded after registration; the listen rule is the last line.
  wait_for([] { return loaded_rule_keys("net").count("net") != 0; }, 20s, 50ms);
  ASSERT_EQ(loaded_rule_keys("exec").count("exec"), 1u) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for_started(aurelay, 20s)) << aurelay.stderr_text();
  {
    netlink::AuditStatus running = guard.status();
    EXPECT_EQ(running.enabled, 1u);
    // The rules file's settings win over the config's backlog_limit 8192.
    EXPECT_EQ(running.backlog_limit, 32768u);
    EXPECT_EQ(running.rate_limit, 0u);  // the copy's -r 0
    // The rules file does not set --backlog_wait_time: the config's 0 stays.
    EXPECT_EQ(running.backlog_wait_time, 0u);
  }

  // The actions.
  const std::string pid_text = std::to_string(getpid());
  TestUser user("ae2e" + pid_text);
  CommandResult added =
      run_command({"useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user.name()});
  ASSERT_EQ(added.exit_code, 0) << added.output();
  struct passwd* entry = getpwnam(user.name().c_str());
  ASSERT_NE(entry, nullptr);
  const uid_t uid = entry->pw_uid;
  // The shipped rules watch /etc/ld.so.conf.d (key binaries; not /etc itself): a comment-only
  // file there is harmless to the dynamic linker.
  const std::string etc_file = "/etc/ld.so.conf.d/aurelay-e2e-" + pid_text + ".conf";
  {
    std::ofstream etc(etc_file);
    etc << "# aurelay end-to-end test, removed at once\n";
  }
  ASSERT_TRUE(std::filesystem::remove(etc_file));
  CommandResult deleted = run_command({"userdel", user.name()});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output();
  const std::string marker = "aurelay-e2e-marker-" + pid_text;
  ASSERT_EQ(run_command({"/bin/echo", marker}).exit_code, 0);

  // useradd and userdel name the account by its uid (id=) in ADD_USER / DEL_USER and by name
  // (acct=) in ADD_GROUP / DEL_GROUP.
  const std::string id = "id=" + std::to_string(uid);
  const std::string acct = "acct=" + user.name();
  auto user_message = [](const rapidjson::Value& d, const std::string& type,
                         const std::string& field, const std::string& program) {
    std::string summary = member(d, "summary");
    std::string category = type;
    for (char& c : category) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return member(d, "category") == category && summary.rfind(type + ":", 0) == 0 &&
           summary.find(" " + field + " ") != std::string::npos &&
           summary.find("exe=" + program) != std::string::npos &&
           summary.find("res=success") != std::string::npos;
  };
  std::vector<Expectation> expectations{
      {"ADD_USER " + id,
       [&](const rapidjson::Value& d) {
         return user_message(d, "ADD_USER", id, "/usr/sbin/useradd");
       }},
      {"ADD_GROUP " + acct,
       [&](const rapidjson::Value& d) {
         return user_message(d, "ADD_GROUP", acct, "/usr/sbin/useradd");
       }},
      {"DEL_USER " + id,
       [&](const rapidjson::Value& d) {
         return user_message(d, "DEL_USER", id, "/usr/sbin/userdel");
       }},
      {"useradd's change of /etc/passwd (key user)",
       [&](const rapidjson::Value& d) {
         return detail(d, "auditkey") == "user" && detail(d, "processname") == "useradd";
       }},
      {"Write: " + etc_file + " (its creation)",
       [&](const rapidjson::Value& d) {
         return member(d, "category") == "write" && member(d, "summary") == "Write: " + etc_file &&
                detail(d, "syscall").rfind("open", 0) == 0 && detail(d, "auditkey") == "binaries";
       }},
      {"Write: " + etc_file + " (its removal)",
       [&](const rapidjson::Value& d) {
         return member(d, "category") == "write" && member(d, "summary") == "Write: " + etc_file &&
                detail(d, "syscall").rfind("unlink", 0) == 0 && detail(d, "auditkey") == "binaries";
       }},
      {"Execve: /bin/echo " + marker,
       [&](const rapidjson::Value& d) {
         return member(d, "category") == "execve" &&
                member(d, "summary") == "Execve: /bin/echo " + marker &&
                detail(d, "command") == "/bin/echo " + marker && detail(d, "auditkey") == "exec";
       }},
  };
  std::vector<std::string> absent;
  wait_for(
      [&] {
        absent = missing(documents_in(dir / "received.ndjson"), expectations);
        return absent.empty();
      },
      20s, 200ms);
  for (const std::string& what : absent) ADD_FAILURE() << "no document: " << what;
  if (!absent.empty()) {
    std::string categories;
    for (const rapidjson::Document& d : documents_in(dir / "received.ndjson"))
      categories += member(d, "category") + " | " + member(d, "summary").substr(0, 120) + "\n";
    ADD_FAILURE() << "received:\n" << categories << "\naurelay:\n" << aurelay.stderr_text();
  }

  // The state file on SIGCONT (what `auditctl --signal state` does).
  std::string state = request_state_file(aurelay.pid(), dir / "aurelay.state");
  EXPECT_EQ(state_number(state, "kernel audit pid"), static_cast<std::uint64_t>(aurelay.pid()))
      << state;
  EXPECT_EQ(state_number(state, "process id"), static_cast<std::uint64_t>(aurelay.pid()));
  EXPECT_EQ(state_number(state, "kernel enabled"), 1u) << state;
  const std::uint64_t received = state_number(state, "records received");
  const std::uint64_t completed = state_number(state, "events completed");
  const std::uint64_t delivered = state_number(state, "documents delivered");
  EXPECT_GT(received, 0u) << state;
  EXPECT_GT(completed, 0u) << state;
  EXPECT_GE(delivered, expectations.size()) << state;
  EXPECT_GE(received, completed) << state;  // every event has at least one record
  EXPECT_LE(delivered, state_number(state, "documents encoded")) << state;
  EXPECT_EQ(state_number(state, "last HTTP status"), 200u) << state;
  EXPECT_EQ(state_number(state, "documents rejected"), 0u) << state;
  // The shipped rules' second -w /etc/sudoers line fails on every host (Rule exists).
  EXPECT_GE(state_number(state, "rules failed lines"), 1u) << state;
  EXPECT_GE(state_number(state, "rules loaded"), 100u) << state;
  EXPECT_NE(state.find("output = http://127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << state;
  struct stat state_stat {};
  ASSERT_EQ(stat((dir / "aurelay.state").c_str(), &state_stat), 0);
  EXPECT_EQ(state_stat.st_mode & 0777, 0640u);

  EXPECT_EQ(aurelay.stop(SIGTERM), 0) << aurelay.stderr_text();

  // Everything delivered by the drain arrived; nothing was left in the spool.
  const std::size_t arrived = documents_in(dir / "received.ndjson").size();
  EXPECT_GE(arrived, delivered);

  // The local audit log, as the shipped config writes it (group adm), kept by `run_as`.
  const std::string log = read_file(dir / "log" / "audit.log");
  EXPECT_TRUE(log.starts_with("type=DAEMON_START msg=audit(")) << log.substr(0, 300);
  EXPECT_NE(log.find("type=EXECVE msg=audit("), std::string::npos);
  EXPECT_NE(log.find(" a1=\"" + marker + "\""), std::string::npos);
  EXPECT_NE(log.rfind("type=DAEMON_END msg=audit("), std::string::npos);
  struct stat log_stat {};
  ASSERT_EQ(stat((dir / "log" / "audit.log").c_str(), &log_stat), 0);
  EXPECT_EQ(log_stat.st_mode & 07777, 0640u);
  const struct group* adm = getgrnam("adm");
  if (adm != nullptr) {
    EXPECT_EQ(log_stat.st_gid, adm->gr_gid);
  }
  if (!run_as.empty()) {
    EXPECT_EQ(log_stat.st_uid, getpwnam(run_as.c_str())->pw_uid);
    EXPECT_EQ(mode_of(dir / "log"), 02750u);  // new files after a rotation keep the group
  }

  // The kernel as found.
  Result<std::vector<std::string>> rules_after = rules::list_rules(auditctl_path());
  ASSERT_TRUE(rules_after.ok()) << rules_after.error();
  EXPECT_TRUE(rules_after->empty()) << "rules left loaded: " << rules_after->front();
  expect_kernel_as_found(before, guard.status());
}

TEST(DaemonEndToEnd, ShippedConfigAndRulesDeliverUserFileAndCommandEventsToMozdef) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  run_end_to_end(guard, "");
}

// The shipped config runs as the `aurelay` user; here a system user made for the test stands in.
// After the privilege drop only CAP_AUDIT_CONTROL and CAP_AUDIT_READ are left, so the teardown
// deletes the rules of the shipped file and restores the settings it changed over the netlink
// control socket (AUDIT_LIST_RULES / AUDIT_DEL_RULE, AUDIT_SET), not with auditctl (which refuses
// to run without root).
TEST(DaemonEndToEnd, ShippedConfigWithPrivilegeDropLeavesTheKernelAsFound) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  const std::string name = "aurelay-e2e-" + std::to_string(getpid());
  CommandResult added = run_command({"useradd", "--system", "--user-group", "--no-create-home",
                                     "--shell", "/usr/sbin/nologin", name});
  ASSERT_EQ(added.exit_code, 0) << added.output();
  TestUser user(name);
  run_end_to_end(guard, name);
  // A failed run must not leave the shipped rules behind for the next test.
  Result<std::vector<std::string>> left = rules::list_rules(auditctl_path());
  if (left && !left->empty()) run_command({auditctl_path(), "-D"});
}

}  // namespace
}  // namespace aurelay::testing
