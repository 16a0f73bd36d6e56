// aurelay collecting live from the real kernel: as the audit daemon (unicast), beside another
// daemon (multicast), refused when the pid is taken, and restarted after SIGKILL.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kernel_guard.h"
#include "live_aurelay.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

// Runs /bin/echo with exactly `args` (no shell), output discarded.
void run_marker(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/bin/echo"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = run_command(argv);
  ASSERT_EQ(result.exit_code, 0);
}

// The documented rendering of bytes that are not valid UTF-8: each such byte becomes the code
// point U+00XX (its Latin-1 reading), written in UTF-8.
std::string latin1_fixed(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// The marker: a 20 KB argument, one with spaces and a newline, valid non-ASCII and a byte that
// is not UTF-8.
struct Marker {
  std::vector<std::string> args;
  std::string expected_command;  // as the document must show it
};

Marker make_marker(const std::string& token) {
  Marker marker;
  std::string big(20000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + (i / 97) % 26);
  marker.args = {token, big, "with space\nand newline", "caf\xc3\xa9-\xe2\x82\xac", "raw\xff"};
  marker.expected_command = "/bin/echo " + token + " " + big + " with space\nand newline " +
                            "caf\xc3\xa9-\xe2\x82\xac " + latin1_fixed("raw\xff");
  return marker;
}

const rapidjson::Value* find_execve(const std::vector<rapidjson::Document>& documents,
                                    const std::string& token) {
  for (const rapidjson::Document& document : documents) {
    if (!document.IsObject() || !document.HasMember("details")) continue;
    const rapidjson::Value& details = document["details"];
    if (!details.HasMember("command")) continue;
    std::string command = details["command"].GetString();
    if (command.find(token) != std::string::npos) return &document;
  }
  return nullptr;
}

void expect_marker_document(const std::vector<rapidjson::Document>& documents,
                            const Marker& marker) {
  const rapidjson::Value* document = find_execve(documents, marker.args[0]);
  ASSERT_NE(document, nullptr) << "no document for marker " << marker.args[0];
  const rapidjson::Value& details = (*document)["details"];
  EXPECT_STREQ((*document)["category"].GetString(), "execve");
  EXPECT_EQ(std::string(details["command"].GetString(), details["command"].GetStringLength()),
            marker.expected_command);
  EXPECT_STREQ(details["argc"].GetString(), std::to_string(marker.args.size() + 1).c_str());
}

TEST(LiveCollection, UnicastDeliversTheExactArgvOfAMarkerCommand) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  TempDir dir;
  AurelayProcess aurelay = live_aurelay(dir, {"--input", "netlink", "--output", dir / "out.json"});
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 10s)) << aurelay.stderr_text();
  std::string error;
  ASSERT_FALSE(
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "live", error)
          .empty())
      << error;
  Marker marker = make_marker("aurelay-marker-unicast-" + std::to_string(getpid()));
  run_marker(marker.args);
  guard.delete_test_rules();
  EXPECT_EQ(aurelay.stop(), 0) << aurelay.stderr_text();
  expect_marker_document(documents_in(dir / "out.json"), marker);
  // aurelay gave the pid back and put `enabled` back as it found it.
  EXPECT_EQ(guard.status().pid, 0u);
  EXPECT_EQ(guard.status().enabled, guard.found().enabled);
}

TEST(LiveCollection, StateFileOnSigcontShowsTheKernelAndTheCounters) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  TempDir dir;
  AurelayProcess aurelay = live_aurelay(dir, {"--input", "netlink", "--output", dir / "out.json"});
  ASSERT_TRUE(wait_for_audit_pid(guard, aurelay.pid(), 10s)) << aurelay.stderr_text();
  std::string error;
  ASSERT_FALSE(
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "state", error)
          .empty());
  for (int i = 0; i < 5; ++i) run_marker({"aurelay-state-marker"});
  guard.delete_test_rules();
  // The way an operator asks: auditctl signals whoever holds the audit pid. The records reach
  // aurelay a little later: ask again until the state file counts the markers' events.
  std::string state;
  wait_for(
      [&] {
        std::filesystem::remove(dir / "aurelay.state");
        CommandResult signalled = run_command({"auditctl", "--signal", "CONT"});
        EXPECT_EQ(signalled.exit_code, 0) << signalled.output();
        if (!wait_for([&] { return std::filesystem::exists(dir / "aurelay.state"); }, 5s))
          return false;
        state = read_file(dir / "aurelay.state");
        return state_number(state, "events completed") >= 5;
      },
      15s, 100ms);
  EXPECT_NE(state.find("kernel audit pid = " + std::to_string(aurelay.pid())), std::string::npos)
      << state;
  EXPECT_NE(state.find("kernel enabled = 1"), std::string::npos) << state;
  EXPECT_GE(state_number(state, "records received"), 5u * 3);  // SYSCALL, EXECVE, EOE per marker
  EXPECT_GE(state_number(state, "events completed"), 5u);
  EXPECT_EQ(aurelay.stop(), 0);
}

TEST(LiveCollection, PidHeldByAnotherProcessExitsWithCode3NamingIt) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  TempDir dir;
  AurelayProcess holder =
      live_aurelay(dir, {"--input", "netlink", "--output", dir / "holder.json"});
  ASSERT_TRUE(wait_for_audit_pid(guard, holder.pid(), 10s)) << holder.stderr_text();
  TempDir dir2;
  AurelayProcess second = live_aurelay(dir2, {"--input", "netlink", "--output", dir2 / "out.json"});
  EXPECT_EQ(second.wait_exit(30s), 3);
  std::string message = second.stderr_text();
  EXPECT_NE(message.find(std::to_string(holder.pid())), std::string::npos) << message;
  EXPECT_NE(message.find("multicast"), std::string::npos) << message;
  EXPECT_EQ(guard.status().pid, static_cast<std::uint32_t>(holder.pid()));
  EXPECT_EQ(holder.stop(), 0);
}

TEST(LiveCollection, MulticastReadsBesideAnotherAuditDaemon) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  std::string error;
  const Status enabled = guard.enable_audit();
  ASSERT_TRUE(enabled.ok()) << enabled.error();
  TempDir dir;
  TestAuditd auditd;
  if (!auditd.start(guard.control(), error)) GTEST_SKIP() << "no auditd to read beside: " << error;
  AurelayProcess aurelay =
      live_aurelay(dir, {"--input", "multicast", "--output", dir / "out.json"});
  ASSERT_TRUE(wait_for_started(aurelay, 10s)) << aurelay.stderr_text();  // bound to the group
  ASSERT_FALSE(
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "mcast", error)
          .empty())
      << error;
  Marker marker = make_marker("aurelay-marker-multicast-" + std::to_string(getpid()));
  run_marker(marker.args);
  guard.delete_test_rules();
  // A multicast reader gets the records a little after the daemon: wait for the document.
  wait_for([&] { return lines_containing(dir / "out.json", marker.args[0]) > 0; }, 10s);
  EXPECT_EQ(aurelay.stop(), 0) << aurelay.stderr_text();
  expect_marker_document(documents_in(dir / "out.json"), marker);
  // The other daemon still holds the pid: multicast never touched it.
  EXPECT_NE(guard.status().pid, 0u);
}

// Counts documents whose command contains `token`.
std::size_t count_markers(const std::string& path, const std::string& token,
                          LastLine last = LastLine::complete) {
  std::size_t count = 0;
  for (const rapidjson::Document& document : documents_in(path, last)) {
    if (!document.IsObject() || !document["details"].HasMember("command")) continue;
    if (std::string(document["details"]["command"].GetString()).find(token) != std::string::npos)
      ++count;
  }
  return count;
}

bool kernel_keeps_records_without_daemon() {
  // The kernel holds records for a restarting daemon only when booted with audit=1.
  std::string cmdline = read_file("/proc/cmdline");
  return cmdline.find("audit=1") != std::string::npos;
}

TEST(LiveCollection, RestartAfterSigkillResumesAndAccountsForTheGap) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  TempDir dir;
  std::string error;
  constexpr int kPerPhase = 20;
  const std::string token = "aurelay-restart-" + std::to_string(getpid());
  {
    AurelayProcess first =
        live_aurelay(dir, {"--input", "netlink", "--output", dir / "first.json"});
    ASSERT_TRUE(wait_for_audit_pid(guard, first.pid(), 10s)) << first.stderr_text();
    ASSERT_FALSE(
        guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "restart", error)
            .empty())
        << error;
    for (int i = 0; i < kPerPhase; ++i) run_marker({token + "-before"});
    // Some of them written before the kill, and the last serial read kept (each 200 ms).
    wait_for([&] { return lines_containing(dir / "first.json", token + "-before") > 0; }, 10s);
    ASSERT_TRUE(wait_for([&] { return !read_file(dir / "last-serial").empty(); }, 5s));
    first.stop(SIGKILL);
  }
  // Records made while no daemon runs. The kernel notices the dead daemon only when a send to
  // it fails, so these records are also what frees the pid.
  for (int i = 0; i < kPerPhase; ++i) run_marker({token + "-down"});
  ASSERT_TRUE(wait_for_audit_pid(guard, 0, 10s));
  AurelayProcess second =
      live_aurelay(dir, {"--input", "netlink", "--output", dir / "second.json"});
  ASSERT_TRUE(wait_for_audit_pid(guard, second.pid(), 10s)) << second.stderr_text();
  for (int i = 0; i < kPerPhase; ++i) run_marker({token + "-after"});
  guard.delete_test_rules();
  wait_for([&] { return lines_containing(dir / "second.json", token + "-after") == kPerPhase; },
           10s);
  EXPECT_EQ(second.stop(), 0) << second.stderr_text();

  // Documents are written in batches: SIGKILL may cost the unwritten tail of the first run's
  // output (its last line cut part way), never a document in the second.
  EXPECT_LE(count_markers(dir / "first.json", token + "-before", LastLine::may_be_cut),
            std::size_t{kPerPhase});
  EXPECT_GT(count_markers(dir / "first.json", token + "-before", LastLine::may_be_cut), 0u);
  EXPECT_EQ(count_markers(dir / "second.json", token + "-after"), std::size_t{kPerPhase});
  std::size_t recovered = count_markers(dir / "second.json", token + "-down");
  if (kernel_keeps_records_without_daemon()) {
    // Booted with audit=1: the hold queue hands the gap to the restarted daemon.
    EXPECT_EQ(recovered, std::size_t{kPerPhase});
  } else {
    // Without audit=1 the kernel drops them (printing what its printk rate limit allows).
    EXPECT_EQ(recovered, 0u);
  }
  // The gap, counted: at least the markers run while no daemon was registered (each an event,
  // hence a serial), said in a warning and in the state file. (Booted with audit=1, the kernel
  // holds them for the next daemon: no gap.)
  const std::string said = second.stderr_text();
  const std::size_t warning = said.find("restart gap: the kernel handed out ");
  if (kernel_keeps_records_without_daemon()) {
    EXPECT_EQ(warning, std::string::npos) << said;
    return;
  }
  ASSERT_NE(warning, std::string::npos) << said;
  const unsigned long long gap =
      std::stoull(said.substr(warning + std::string("restart gap: the kernel handed out ").size()));
  EXPECT_GE(gap, static_cast<unsigned long long>(kPerPhase)) << said;
  EXPECT_NE(read_file(dir / "aurelay.state").find("restart gap serials = " + std::to_string(gap)),
            std::string::npos)
      << read_file(dir / "aurelay.state");
}

}  // namespace
}  // namespace aurelay::testing
