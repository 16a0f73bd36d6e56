// Privilege drop: aurelay collecting live with `--user` runs, in every thread, as that user with
// exactly CAP_AUDIT_CONTROL and CAP_AUDIT_READ, still delivers events, and at SIGTERM still gives
// the audit pid back and restores `enabled` (CAP_AUDIT_CONTROL is kept for that).
//
// Rule unloading at exit runs auditctl, which fails without root, so aurelay runs with no rules
// file here and the guard adds and removes its own keyed execve rule.
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel_guard.h"
#include "live_aurelay.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

// A system user (and its group) created for the test and deleted afterwards.
class SystemUser {
 public:
  bool create(const std::string& name, std::string& error) {
    CommandResult added = run_command({"useradd", "--system", "--user-group", "--no-create-home",
                                       "--shell", "/usr/sbin/nologin", name});
    if (added.exit_code != 0) {
      error = "useradd failed: " + added.output();
      return false;
    }
    name_ = name;
    struct passwd* entry = getpwnam(name.c_str());
    if (entry == nullptr) {
      error = "getpwnam(" + name + ") failed after useradd";
      return false;
    }
    uid_ = entry->pw_uid;
    gid_ = entry->pw_gid;
    return true;
  }
  ~SystemUser() {
    if (name_.empty()) return;
    run_command({"userdel", name_});
    if (getgrnam(name_.c_str()) != nullptr) run_command({"groupdel", name_});
  }
  const std::string& name() const { return name_; }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }

 private:
  std::string name_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

// The lines of /proc/<pid>/task/<tid>/status we check.
struct ThreadCredentials {
  std::vector<std::uint64_t> uids;  // real, effective, saved, filesystem
  std::vector<std::uint64_t> gids;
  std::vector<std::uint64_t> groups;
  std::uint64_t cap_inh = ~0ull, cap_prm = ~0ull, cap_eff = ~0ull, cap_bnd = ~0ull, cap_amb = ~0ull;
  bool read = false;
};

ThreadCredentials read_credentials(const std::string& status_path) {
  ThreadCredentials credentials;
  std::istringstream lines(read_file(status_path));
  auto numbers = [](const std::string& rest) {
    std::vector<std::uint64_t> values;
    std::istringstream in(rest);
    for (std::uint64_t value; in >> value;) values.push_back(value);
    return values;
  };
  auto hex = [](const std::string& rest) { return std::stoull(rest, nullptr, 16); };
  for (std::string line; std::getline(lines, line);) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    std::string rest = line.substr(colon + 1);
    if (key == "Uid") credentials.uids = numbers(rest);
    if (key == "Gid") credentials.gids = numbers(rest);
    if (key == "Groups") credentials.groups = numbers(rest);
    if (key == "CapInh") credentials.cap_inh = hex(rest);
    if (key == "CapPrm") credentials.cap_prm = hex(rest);
    if (key == "CapEff") credentials.cap_eff = hex(rest);
    if (key == "CapBnd") credentials.cap_bnd = hex(rest);
    if (key == "CapAmb") credentials.cap_amb = hex(rest);
    credentials.read = true;
  }
  return credentials;
}

// Waits until the process's main thread runs as `uid` (the drop happens after registration).
bool wait_for_uid(pid_t pid, uid_t uid, std::chrono::seconds timeout) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  return wait_for(
      [&] {
        ThreadCredentials credentials = read_credentials(path);
        return credentials.uids.size() == 4 && credentials.uids[0] == uid;
      },
      timeout);
}

TEST(PrivilegeDrop, RunsAsTheUserWithOnlyTheAuditCapabilitiesAndStillCollects) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (!is_executable("/usr/sbin/useradd") && !is_executable("/sbin/useradd"))
    GTEST_SKIP() << "useradd missing";
  std::string error;
  SystemUser user;
  ASSERT_TRUE(user.create("aurelay-pd-" + std::to_string(getpid()), error)) << error;

  TempDir dir;
  // The output directory belongs to the user, so the output stays writable after the drop.
  const std::string out_dir = dir / "out";
  ASSERT_EQ(mkdir(out_dir.c_str(), 0750), 0);
  ASSERT_EQ(chown(out_dir.c_str(), user.uid(), user.gid()), 0);
  const std::string output = out_dir + "/out.json";

  AurelayProcess aurelay =
      live_aurelay(dir, {"--input", "netlink", "--output", output, "--user", user.name()});
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 10s)) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for_uid(aurelay.pid(), user.uid(), 10s)) << aurelay.stderr_text();
  ASSERT_TRUE(wait_for_started(aurelay, 10s)) << aurelay.stderr_text();  // threads are up

  const std::uint64_t audit_caps = (1ull << CAP_AUDIT_CONTROL) | (1ull << CAP_AUDIT_READ);
  std::size_t threads = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(aurelay.pid()) + "/task")) {
    const std::string tid = task.path().filename().string();
    ThreadCredentials credentials = read_credentials(task.path().string() + "/status");
    if (!credentials.read) continue;  // the thread ended meanwhile
    ++threads;
    const std::vector<std::uint64_t> uids(4, user.uid());
    const std::vector<std::uint64_t> gids(4, user.gid());
    EXPECT_EQ(credentials.uids, uids) << "thread " << tid;
    EXPECT_EQ(credentials.gids, gids) << "thread " << tid;
    for (std::uint64_t group : credentials.groups)
      EXPECT_EQ(group, user.gid()) << "thread " << tid << " kept supplementary group " << group;
    EXPECT_EQ(credentials.cap_eff, audit_caps)
        << "thread " << tid << std::hex << " CapEff " << credentials.cap_eff;
    EXPECT_EQ(credentials.cap_prm, audit_caps)
        << "thread " << tid << std::hex << " CapPrm " << credentials.cap_prm;
    EXPECT_EQ(credentials.cap_inh, 0u) << "thread " << tid;
    EXPECT_EQ(credentials.cap_amb, 0u) << "thread " << tid;
    EXPECT_EQ(credentials.cap_bnd, audit_caps)
        << "thread " << tid << std::hex << " CapBnd " << credentials.cap_bnd;
  }
  EXPECT_GE(threads, 3u) << "main, reader, correlator and shipper threads expected";

  // It still collects: a marker command arrives in its output.
  ASSERT_FALSE(
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "privdrop", error)
          .empty())
      << error;
  const std::string marker = "aurelay-privdrop-marker-" + std::to_string(getpid());
  ASSERT_EQ(run_command({"/bin/echo", marker}).exit_code, 0);
  guard.delete_test_rules();

  // And it can still answer SIGCONT with a state file as the user.
  std::string state = request_state_file(aurelay.pid(), dir / "aurelay.state");
  EXPECT_EQ(state_number(state, "kernel audit pid"), static_cast<std::uint64_t>(aurelay.pid()))
      << state << aurelay.stderr_text();

  // At SIGTERM it gives the pid back and restores `enabled` itself (the guard would otherwise).
  EXPECT_EQ(aurelay.stop(), 0) << aurelay.stderr_text();
  netlink::AuditStatus after = guard.status();
  EXPECT_EQ(after.pid, 0u);
  EXPECT_EQ(after.enabled, guard.found().enabled);

  bool found = false;
  for (const rapidjson::Document& document : documents_in(output)) {
    if (!document.IsObject() || !document.HasMember("details")) continue;
    const rapidjson::Value& details = document["details"];
    if (details.HasMember("command") &&
        std::string(details["command"].GetString()) == "/bin/echo " + marker) {
      found = true;
      EXPECT_STREQ(document["category"].GetString(), "execve");
    }
  }
  EXPECT_TRUE(found) << "no execve document for " << marker << " in " << output << "\n"
                     << aurelay.stderr_text();
}

}  // namespace
}  // namespace aurelay::testing
