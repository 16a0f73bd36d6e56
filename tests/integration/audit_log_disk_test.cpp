// The local audit log on a small, real file system: a 1 MiB tmpfs mounted in a private mount
// namespace of the aurelay process under test (it vanishes with the process; the host's mounts
// are never touched). A replay fills it: the disk-full and space actions run as auditd runs them,
// and every document still arrives, because the log never holds up the documents.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "aurelay_process.h"
#include "test_support.h"

namespace aurelay {
namespace {

using testing::CommandResult;
using testing::read_file;
using testing::run_command;
using testing::TempDir;

constexpr int kEvents = 6000;  // about 3 MiB of log: three times the file system

// kEvents exec events as auditd's RAW log lines.
std::string replay_input(const TempDir& dir) {
  const auto path = dir / "input.log";
  std::ofstream out(path);
  for (int i = 0; i < kEvents; ++i) {
    const std::string stamp = "msg=audit(1700000000." + std::to_string(100 + i % 800) + ":" +
                              std::to_string(1000 + i) + "): ";
    out << "type=SYSCALL " << stamp
        << "arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 "
           "pid="
        << 2000 + i
        << " auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 "
           "ses=3 comm=\"true\" exe=\"/usr/bin/true\" key=\"exec\"\n"
        << "type=PROCTITLE " << stamp << "proctitle=\"/usr/bin/true\"\n";
  }
  return path.string();
}

// Runs aurelay on the replay with its audit log on a fresh 1 MiB tmpfs at dir/logfs, with
// `settings` (config lines). nullopt when this machine cannot mount one (not root).
std::optional<CommandResult> run_on_small_disk(const TempDir& dir, const std::string& settings) {
  if (::geteuid() != 0) return std::nullopt;
  if (run_command({"unshare", "--mount", "--propagation", "private", "true"}).exit_code != 0)
    return std::nullopt;
  std::filesystem::create_directories(dir / "logfs");
  testing::write_file(dir / "aurelay.conf",
                      read_file(testing::private_config(dir)) + "write_logs = yes\n" +
                          "log_file = " + (dir / "logfs" / "audit" / "audit.log").string() +
                          "\nflush = none\n" + settings);
  std::filesystem::permissions(dir / "aurelay.conf", std::filesystem::perms::owner_read |
                                                         std::filesystem::perms::owner_write);
  const std::string command =
      "mount -t tmpfs -o size=1m aurelay-test-logfs '" + (dir / "logfs").string() +
      "' && exec '" AURELAY_BINARY "' --config '" + (dir / "aurelay.conf").string() +
      "' --input '" + replay_input(dir) + "' --output '" + (dir / "documents.json").string() +
      "' --state_file ''";
  return run_command({"unshare", "--mount", "--propagation", "private", "sh", "-c", command});
}

std::size_t documents(const TempDir& dir) {
  return testing::count_occurrences(read_file(dir / "documents.json"), "\n");
}

TEST(AuditLogDisk, DiskFullSuspendsTheLogWhileEveryDocumentArrives) {
  TempDir dir;
  auto run = run_on_small_disk(dir,
                               "space_left = 2%\nadmin_space_left = 1%\n"
                               "disk_full_action = suspend\n");
  if (!run) GTEST_SKIP() << "needs root and a private mount namespace";
  EXPECT_EQ(run->exit_code, 0) << run->output();
  EXPECT_EQ(documents(dir), static_cast<std::size_t>(kEvents));
  EXPECT_NE(run->err.find("audit log: no space left on the file system of"), std::string::npos)
      << run->err;
  EXPECT_NE(run->err.find("audit log: suspended (disk_full reached)"), std::string::npos);
  EXPECT_NE(run->err.find("audit log records not written"), std::string::npos);
}

TEST(AuditLogDisk, SpaceLeftExecRunsTheScriptAndSuspendsUntilResumed) {
  TempDir dir;
  const auto script = dir / "space-left.sh";
  const auto marker = dir / "space-left-ran";
  testing::write_file(script, "#!/bin/sh\necho ran >> '" + marker.string() + "'\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto run = run_on_small_disk(dir,
                               "space_left = 50%\nadmin_space_left = 5%\n"
                               "space_left_action = exec " +
                                   script.string() + "\n");
  if (!run) GTEST_SKIP() << "needs root and a private mount namespace";
  EXPECT_EQ(run->exit_code, 0) << run->output();
  EXPECT_EQ(documents(dir), static_cast<std::size_t>(kEvents));
  ASSERT_TRUE(
      testing::wait_for([&] { return std::filesystem::exists(marker); }, std::chrono::seconds(5)));
  EXPECT_EQ(read_file(marker), "ran\n");  // once: the log stays suspended after it
  EXPECT_NE(run->err.find("audit log: suspended (space_left reached, ran " + script.string()),
            std::string::npos)
      << run->err;
}

TEST(AuditLogDisk, AdminSpaceLeftRotateMakesRoomAndTheLogGoesOn) {
  TempDir dir;
  // Below 40% free the oldest logs go: with 3 logs of 200 KiB the disk never fills.
  auto run = run_on_small_disk(dir,
                               "space_left = 60%\nadmin_space_left = 40%\n"
                               "space_left_action = syslog\n"
                               "admin_space_left_action = rotate\nnum_logs = 2\n"
                               "disk_full_action = suspend\n");
  if (!run) GTEST_SKIP() << "needs root and a private mount namespace";
  EXPECT_EQ(run->exit_code, 0) << run->output();
  EXPECT_EQ(documents(dir), static_cast<std::size_t>(kEvents));
  EXPECT_NE(run->err.find("audit log: low on disk space"), std::string::npos) << run->err;
  EXPECT_NE(run->err.find("admin_space_left reached, rotating"), std::string::npos) << run->err;
  EXPECT_NE(run->err.find("audit log rotations 1"), std::string::npos) << run->err;
}

// The log is written before correlation: with the MozDef server unreachable every record is in
// the log while the documents wait in the spool.
TEST(AuditLogOutage, AnUnreachableServerNeverHoldsUpTheLog) {
  TempDir dir;
  testing::write_file(dir / "aurelay.conf",
                      read_file(testing::private_config(dir)) + "write_logs = yes\nlog_file = " +
                          (dir / "log" / "audit.log").string() + "\nlog_format = raw\n");
  std::filesystem::permissions(dir / "aurelay.conf", std::filesystem::perms::owner_read |
                                                         std::filesystem::perms::owner_write);
  const auto run =
      run_command({AURELAY_BINARY, "--config", (dir / "aurelay.conf").string(), "--input",
                   replay_input(dir), "--output", "http://127.0.0.1:1/_bulk", "--state_file", ""});
  // The documents could not be delivered (exit 1 names them, kept in the spool).
  EXPECT_NE(run.err.find("kept in the spool"), std::string::npos) << run.err;
  const std::string log = read_file(dir / "log" / "audit.log");
  EXPECT_EQ(testing::count_occurrences(log, "type=SYSCALL msg=audit("),
            static_cast<std::size_t>(kEvents));
  EXPECT_EQ(testing::count_occurrences(log, "type=PROCTITLE msg=audit("),
            static_cast<std::size_t>(kEvents));
  EXPECT_TRUE(log.starts_with("type=DAEMON_START ")) << log.substr(0, 200);
}

// SIGUSR1 and SIGUSR2 through the daemon's signal handling, as `auditctl --signal USR1` sends
// them: aurelay runs as an auditd plugin (stdin) writing its own log.
TEST(AuditLogSignals, Sigusr1RotatesAndTheStopIsSignedByItsSender) {
  TempDir dir;
  testing::write_file(dir / "aurelay.conf", read_file(testing::private_config(dir)) +
                                                "write_logs = yes\nlog_file = " +
                                                (dir / "log" / "audit.log").string() + "\n");
  std::filesystem::permissions(dir / "aurelay.conf", std::filesystem::perms::owner_read |
                                                         std::filesystem::perms::owner_write);
  testing::AurelayProcess aurelay(
      {AURELAY_BINARY, "--config", (dir / "aurelay.conf").string(), "--input", "stdin", "--output",
       (dir / "documents.json").string(), "--state_file", ""},
      dir / "stderr.log", testing::AurelayProcess::Stdin::pipe);
  const auto log_path = dir / "log" / "audit.log";
  const std::string record =
      "type=SYSCALL msg=audit(1700000000.123:1): arch=c000003e syscall=59 success=yes exit=0 "
      "a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
      "egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"true\" exe=\"/usr/bin/true\" key=(null)\n";
  aurelay.write_stdin(record);
  ASSERT_TRUE(testing::wait_for(
      [&] { return testing::count_occurrences(read_file(log_path), "type=SYSCALL") == 1; },
      std::chrono::seconds(10)))
      << aurelay.stderr_text();
  aurelay.send(SIGUSR1);
  ASSERT_TRUE(testing::wait_for([&] { return std::filesystem::exists(log_path.string() + ".1"); },
                                std::chrono::seconds(10)))
      << aurelay.stderr_text();
  aurelay.write_stdin(record);
  ASSERT_TRUE(testing::wait_for(
      [&] { return testing::count_occurrences(read_file(log_path), "type=SYSCALL") == 1; },
      std::chrono::seconds(10)));
  aurelay.send(SIGUSR2);  // nothing is suspended: resuming writes its record and goes on
  EXPECT_EQ(aurelay.stop(SIGTERM), 0) << aurelay.stderr_text();

  const std::string rotated = read_file(log_path.string() + ".1");
  const std::string current = read_file(log_path);
  EXPECT_TRUE(rotated.starts_with("type=DAEMON_START ")) << rotated;
  EXPECT_EQ(testing::count_occurrences(rotated, "type=SYSCALL"), 1U);
  EXPECT_TRUE(current.starts_with("type=DAEMON_ROTATE ")) << current;
  const std::string us = " pid=" + std::to_string(::getpid()) + " res=success";
  EXPECT_NE(current.find("op=rotate-logs auid="), std::string::npos) << current;
  EXPECT_NE(current.find(us), std::string::npos) << current;
  EXPECT_NE(current.find("type=DAEMON_RESUME "), std::string::npos) << current;
  const std::size_t end = current.rfind("type=DAEMON_END ");
  ASSERT_NE(end, std::string::npos) << current;
  EXPECT_NE(current.find("op=terminate auid=", end), std::string::npos);
  EXPECT_NE(current.find(us, end), std::string::npos) << current.substr(end);
}

}  // namespace
}  // namespace aurelay
