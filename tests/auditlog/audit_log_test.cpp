// The local audit log's file handling: what it writes around the records, modes, rotation as
// auditd rotates (ROTATE, KEEP_LOGS, SIGUSR1), suspension and resumption, node names, flush modes
// and the parsing of auditd.conf's text values. Disk-full and space actions on a real small file
// system are in tests/integration/audit_log_disk_test.cpp.
#include "auditlog/audit_log.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace aurelay::auditlog {
namespace {

using testing::mode_of;
using testing::read_file;
using testing::TempDir;

const std::string kSyscall =
    "audit(1700000000.123:77): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
    "items=1 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
    "fsgid=0 tty=(none) ses=4294967295 comm=\"true\" exe=\"/usr/bin/true\" key=(null)";
const std::string kProctitle = "audit(1700000000.123:77): proctitle=\"/usr/bin/true\"";
const std::string kEoe = "audit(1700000000.123:77): ";

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

AuditLogConfig config_in(const TempDir& dir) {
  AuditLogConfig config;
  config.write_logs = true;
  config.log_file = (dir / "audit" / "audit.log").string();
  config.flush = FlushMode::none;
  return config;
}

correlate::RecordBatch event_batch(int events) {
  correlate::RecordBatch batch;
  for (int i = 0; i < events; ++i) {
    batch.append(1300, kSyscall);
    batch.append(1327, kProctitle);
    batch.append(1320, kEoe);
  }
  return batch;
}

std::unique_ptr<AuditLog> open_log(const AuditLogConfig& config, AuditLogStats* stats) {
  auto log = AuditLog::open(config, stats);
  EXPECT_TRUE(testing::succeeded(log));
  return log ? std::move(*log) : nullptr;
}

TEST(AuditLog, WritesEveryRecordButEoeBetweenStartAndEnd) {
  TempDir dir;
  AuditLogStats stats;
  auto log = open_log(config_in(dir), &stats);
  ASSERT_TRUE(log);
  log->write(event_batch(2));
  log->close({::getpid(), 0});
  const auto lines = lines_of(dir / "audit" / "audit.log");
  ASSERT_EQ(lines.size(), 6U);
  EXPECT_TRUE(lines[0].starts_with("type=DAEMON_START msg=audit(")) << lines[0];
  EXPECT_NE(lines[0].find(" format=enriched kernel="), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" pid=" + std::to_string(::getpid()) + " "), std::string::npos);
  EXPECT_TRUE(lines[0].ends_with("res=success\x1d"
                                 "AUID=\"unset\" UID=\"root\"") ||
              lines[0].find("res=success\x1d"
                            "AUID=") != std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[1], "type=SYSCALL msg=" + kSyscall +
                          "\x1d"
                          "ARCH=x86_64 SYSCALL=execve AUID=\"unset\" UID=\"root\" "
                          "GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" "
                          "EGID=\"root\" SGID=\"root\" FSGID=\"root\"");
  EXPECT_EQ(lines[2], "type=PROCTITLE msg=" + kProctitle);
  EXPECT_EQ(lines[3], lines[1]);
  EXPECT_TRUE(lines[5].starts_with("type=DAEMON_END msg=audit(")) << lines[5];
  EXPECT_NE(lines[5].find("op=terminate auid="), std::string::npos) << lines[5];
  EXPECT_EQ(value_of(stats.audit_log_records), 6U);  // its own DAEMON records included
  EXPECT_EQ(value_of(stats.audit_log_bytes),
            std::filesystem::file_size(dir / "audit" / "audit.log"));
  // The DAEMON records count their own serial up from one start.
  const auto serial = [](const std::string& line) {
    return std::stoul(line.substr(line.find(':', line.find("audit(")) + 1));
  };
  EXPECT_EQ(serial(lines[5]), serial(lines[0]) + 1);
}

TEST(AuditLog, RawFormatWritesTheKernelsTextOnly) {
  TempDir dir;
  AuditLogConfig config = config_in(dir);
  config.format = LogFormat::raw;
  auto log = open_log(config, nullptr);
  ASSERT_TRUE(log);
  log->write(event_batch(1));
  log->close({});
  const auto lines = lines_of(dir / "audit" / "audit.log");
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_NE(lines[0].find(" format=raw "), std::string::npos);
  EXPECT_EQ(lines[0].find('\x1d'), std::string::npos);
  EXPECT_EQ(lines[1], "type=SYSCALL msg=" + kSyscall);
}

TEST(AuditLog, ModesAreAuditdsWithAndWithoutALogGroup) {
  TempDir dir;
  {
    auto log = open_log(config_in(dir), nullptr);
    ASSERT_TRUE(log);
  }
  EXPECT_EQ(mode_of(dir / "audit"), 0700U);
  EXPECT_EQ(mode_of(dir / "audit" / "audit.log"), 0600U);
  if (::getgrnam("adm") == nullptr || ::geteuid() != 0) GTEST_SKIP() << "needs root and group adm";
  AuditLogConfig config = config_in(dir);
  config.log_group = "adm";
  {
    auto log = open_log(config, nullptr);
    ASSERT_TRUE(log);
    log->request_rotate({});
    log->tick();
  }
  EXPECT_EQ(mode_of(dir / "audit"), 0750U);
  EXPECT_EQ(mode_of(dir / "audit" / "audit.log"), 0640U);
  EXPECT_EQ(mode_of(dir / "audit" / "audit.log.1"), 0440U);
  struct stat info {};
  ASSERT_EQ(::stat((dir / "audit" / "audit.log").c_str(), &info), 0);
  EXPECT_EQ(info.st_gid, ::getgrnam("adm")->gr_gid);
}

TEST(AuditLog, AnUnknownGroupOrAWorldWritableDirectoryIsAConfigError) {
  TempDir dir;
  AuditLogConfig config = config_in(dir);
  config.log_group = "no-such-group-aurelay";
  auto log = AuditLog::open(config, nullptr);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.exit_code_or(0), kExitConfigError);
  EXPECT_NE(log.error().find("log_group"), std::string::npos);
  config = config_in(dir);
  config.log_file = "/tmp/aurelay-audit-test.log";
  log = AuditLog::open(config, nullptr);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().find("writable by everyone"), std::string::npos) << log.error();
  EXPECT_FALSE(std::filesystem::exists("/tmp/aurelay-audit-test.log"));
}

// About 1.2 MiB of records per call.
void write_megabyte(AuditLog& log) {
  const auto batch = event_batch(1500);
  for (int i = 0; i < 2; ++i) log.write(batch);
}

TEST(AuditLog, RotatesAtMaxLogFileKeepingNumLogs) {
  TempDir dir;
  AuditLogConfig config = config_in(dir);
  config.max_log_file_mib = 1;
  config.num_logs = 3;
  AuditLogStats stats;
  auto log = open_log(config, &stats);
  ASSERT_TRUE(log);
  for (int i = 0; i < 5; ++i) write_megabyte(*log);
  log->close({});
  const auto base = dir / "audit" / "audit.log";
  EXPECT_TRUE(std::filesystem::exists(base));
  EXPECT_TRUE(std::filesystem::exists(base.string() + ".1"));
  EXPECT_TRUE(std::filesystem::exists(base.string() + ".2"));
  EXPECT_FALSE(std::filesystem::exists(base.string() + ".3"));
  EXPECT_GE(value_of(stats.audit_log_rotations), 4U);
  for (const char* suffix : {".1", ".2"}) {
    const auto size = std::filesystem::file_size(base.string() + suffix);
    EXPECT_GE(size, 1024U * 1024U);
    EXPECT_LT(size, 1024U * 1024U + 2048U);  // rotated right after the line that crossed
    EXPECT_EQ(mode_of(base.string() + suffix), 0400U);
  }
  EXPECT_EQ(value_of(stats.audit_log_records_not_written), 0U);
}

TEST(AuditLog, KeepLogsNeverRemovesOne) {
  TempDir dir;
  AuditLogConfig config = config_in(dir);
  config.max_log_file_mib = 1;
  config.num_logs = 2;
  config.max_log_file_action = SizeAction::keep_logs;
  auto log = open_log(config, nullptr);
  ASSERT_TRUE(log);
  for (int i = 0; i < 4; ++i) write_megabyte(*log);
  log->close({});
  const std::string base = (dir / "audit" / "audit.log").string();
  for (const char* suffix : {".1", ".2", ".3"}) {
    EXPECT_TRUE(std::filesystem::exists(base + suffix)) << suffix;
  }
}

TEST(AuditLog, StartRemovesLogsBeyondNumLogsUnderRotate) {
  TempDir dir;
  std::filesystem::create_directories(dir / "audit");
  const std::string base = (dir / "audit" / "audit.log").string();
  for (const char* suffix : {".1", ".3", ".4", ".6"}) testing::write_file(base + suffix, "x\n");
  AuditLogConfig config = config_in(dir);
  config.num_logs = 3;
  auto log = open_log(config, nullptr);
  ASSERT_TRUE(log);
  EXPECT_TRUE(std::filesystem::exists(base + ".1"));
  EXPECT_FALSE(std::filesystem::exists(base + ".3"));
  EXPECT_FALSE(std::filesystem::exists(base + ".4"));
  EXPECT_TRUE(std::filesystem::exists(base + ".6"));  // auditd stops at the first gap too
}

TEST(AuditLog, RotateRequestStartsTheNewLogWithDaemonRotate) {
  TempDir dir;
  auto log = open_log(config_in(dir), nullptr);
  ASSERT_TRUE(log);
  log->write(event_batch(1));
  log->request_rotate({::getpid(), 0});
  log->write(event_batch(1));  // the owner does the rotation at its next batch
  log->close({});
  const auto old_lines = lines_of(dir / "audit" / "audit.log.1");
  const auto new_lines = lines_of(dir / "audit" / "audit.log");
  ASSERT_EQ(old_lines.size(), 3U);
  ASSERT_EQ(new_lines.size(), 4U);
  EXPECT_TRUE(new_lines[0].starts_with("type=DAEMON_ROTATE ")) << new_lines[0];
  EXPECT_NE(new_lines[0].find("op=rotate-logs auid="), std::string::npos);
  EXPECT_NE(new_lines[0].find(" pid=" + std::to_string(::getpid()) + " res=success"),
            std::string::npos);
}

TEST(AuditLog, SuspendsAtMaxLogFileAndResumesOnRequest) {
  TempDir dir;
  AuditLogConfig config = config_in(dir);
  config.max_log_file_mib = 1;
  config.max_log_file_action = SizeAction::suspend;
  AuditLogStats stats;
  auto log = open_log(config, &stats);
  ASSERT_TRUE(log);
  write_megabyte(*log);
  EXPECT_TRUE(log->suspended());
  EXPECT_EQ(value_of(stats.audit_log_suspended), 1);
  const auto size = std::filesystem::file_size(dir / "audit" / "audit.log");
  log->write(event_batch(10));
  EXPECT_EQ(std::filesystem::file_size(dir / "audit" / "audit.log"), size);
  EXPECT_GE(value_of(stats.audit_log_records_not_written), 20U);
  config.max_log_file_action = SizeAction::ignore;  // (the running log keeps its own config)
  log->request_resume({::getpid(), 0});
  log->tick();
  // Still over max_log_file: suspended again at once, as auditd does, after DAEMON_RESUME.
  const auto lines = lines_of(dir / "audit" / "audit.log");
  EXPECT_TRUE(lines.back().starts_with("type=DAEMON_RESUME ")) << lines.back();
  EXPECT_NE(lines.back().find("op=resume-logging"), std::string::npos);
}

TEST(AuditLog, NodeNameFormatPrefixesEveryLine) {
  TempDir dir;
  AuditLogConfig config = config_in(dir);
  config.name_format = NameFormat::user;
  config.name = "web1";
  auto log = open_log(config, nullptr);
  ASSERT_TRUE(log);
  log->write(event_batch(1));
  log->close({});
  for (const auto& line : lines_of(dir / "audit" / "audit.log")) {
    EXPECT_TRUE(line.starts_with("node=web1 type=")) << line;
  }
  auto hostname = node_name(NameFormat::hostname, "");
  ASSERT_TRUE(testing::succeeded(hostname));
  EXPECT_FALSE(hostname->empty());
  EXPECT_FALSE(node_name(NameFormat::user, ""));
}

TEST(AuditLog, EveryFlushModeWritesTheSameLines) {
  std::vector<std::string> reference;
  for (FlushMode mode : {FlushMode::none, FlushMode::incremental, FlushMode::incremental_async,
                         FlushMode::data, FlushMode::sync}) {
    TempDir dir;
    AuditLogConfig config = config_in(dir);
    config.flush = mode;
    config.freq = 3;
    auto log = open_log(config, nullptr);
    ASSERT_TRUE(log);
    for (int i = 0; i < 20; ++i) log->write(event_batch(2));
    log->close({});
    auto lines = lines_of(dir / "audit" / "audit.log");
    ASSERT_EQ(lines.size(), 82U);
    lines = {lines.begin() + 1, lines.end() - 1};
    if (reference.empty()) reference = lines;
    EXPECT_EQ(lines, reference);
  }
}

TEST(AuditLog, LogLinesAreWrittenAsReadAndEnrichedWhenRaw) {
  TempDir dir;
  auto log = open_log(config_in(dir), nullptr);
  ASSERT_TRUE(log);
  correlate::RecordBatch batch;
  batch.append(correlate::RecordBatch::kLogLine, "type=SYSCALL msg=" + kSyscall + "\n");
  batch.append(correlate::RecordBatch::kLogLine, "type=EOE msg=" + kEoe + "\n");
  batch.append(correlate::RecordBatch::kLogLine, "type=PROCTITLE msg=" + kProctitle +
                                                     "\x1d"
                                                     "ALREADY=\"enriched\"");
  log->write(batch);
  log->close({});
  const auto lines = lines_of(dir / "audit" / "audit.log");
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_TRUE(lines[1].ends_with("FSGID=\"root\"")) << lines[1];
  EXPECT_EQ(lines[2], "type=PROCTITLE msg=" + kProctitle +
                          "\x1d"
                          "ALREADY=\"enriched\"");
}

TEST(LogPolicy, ParsesAuditdsActionsAndThresholds) {
  auto exec = parse_disk_action("EXEC /usr/local/sbin/full");
  ASSERT_TRUE(testing::succeeded(exec));
  EXPECT_EQ(exec->kind, DiskActionKind::exec);
  EXPECT_EQ(exec->exe, "/usr/local/sbin/full");
  EXPECT_EQ(parse_disk_action("Suspend")->kind, DiskActionKind::suspend);
  EXPECT_EQ(parse_disk_action("halt")->kind, DiskActionKind::halt);
  EXPECT_FALSE(parse_disk_action("exec"));
  EXPECT_FALSE(parse_disk_action("exec relative/script"));
  EXPECT_FALSE(parse_disk_action("syslog now"));
  EXPECT_FALSE(parse_disk_action("rotate", /*rotate_allowed=*/false));
  auto email = parse_disk_action("email");
  ASSERT_FALSE(email);
  EXPECT_NE(email.error().find("not supported"), std::string::npos);

  auto percent = parse_space_threshold("25%");
  ASSERT_TRUE(testing::succeeded(percent));
  EXPECT_TRUE(percent->percent);
  EXPECT_EQ(percent->bytes(4000), 1000U);
  EXPECT_EQ(parse_space_threshold("75")->bytes(0), 75U * 1024 * 1024);
  EXPECT_FALSE(parse_space_threshold("100%"));
  EXPECT_FALSE(parse_space_threshold("lots"));
  EXPECT_FALSE(parse_space_threshold(""));

  AuditLogConfig config;
  config.disk_error_action = "rotate";
  auto policy = parse_log_policy(config);
  ASSERT_FALSE(policy);
  EXPECT_TRUE(policy.error().starts_with("disk_error_action: ")) << policy.error();
}

}  // namespace
}  // namespace aurelay::auditlog
