// Process contexts: the cgroup path forms of each container runtime and of systemd units (cgroup
// v2 and v1's name=systemd), and the reader's table against a fake /proc (hits, the trust window,
// a reused pid, inheritance from the parent, eviction), then through a batch of real records and
// the real /proc (a running parent checked by its pidfd).
#include "correlate/process_context.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "base/clocks.h"
#include "correlate/record.h"
#include "correlate/record_batch.h"
#include "test_support.h"

namespace aurelay::correlate {
namespace {

using aurelay::testing::TempDir;
using aurelay::testing::write_file;

const std::string kId = "4f1e8a7c0b2d93e65f7a1c4d8e2b0f96a3c5d7e9f1b3a5c7d9e1f3a5b7c9d1e3";
const std::string kOtherId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(CgroupPath, DockerCgroupfsAndSystemdForms) {
  EXPECT_EQ(identify_cgroup_path("/docker/" + kId).container_id, kId);
  const std::string path = "/system.slice/docker-" + kId + ".scope";
  const CgroupIdentity scope = identify_cgroup_path(path);
  EXPECT_EQ(scope.container_id, kId);
  EXPECT_EQ(scope.unit, "docker-" + kId + ".scope");
}

TEST(CgroupPath, ContainerdCriOAndPodmanForms) {
  const std::string pod =
      "/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/";
  EXPECT_EQ(identify_cgroup_path(pod + "cri-containerd-" + kId + ".scope").container_id, kId);
  EXPECT_EQ(identify_cgroup_path(pod + "crio-" + kId + ".scope").container_id, kId);
  EXPECT_EQ(identify_cgroup_path("/kubepods/besteffort/pod0a1b/" + kId).container_id, kId);
  EXPECT_EQ(identify_cgroup_path("/kubepods/besteffort/pod0a1b/crio-" + kId).container_id, kId);
  EXPECT_EQ(identify_cgroup_path("/default/" + kId).container_id, kId);  // plain containerd
  EXPECT_EQ(identify_cgroup_path("/machine.slice/libpod-" + kId + ".scope/container").container_id,
            kId);
  EXPECT_EQ(identify_cgroup_path("/libpod_parent/libpod-" + kId).container_id, kId);
}

TEST(CgroupPath, TheInnermostIdWinsAndMonitorsAreNoContainer) {
  EXPECT_EQ(identify_cgroup_path("/docker/" + kOtherId + "/docker/" + kId).container_id, kId);
  EXPECT_EQ(identify_cgroup_path("/machine.slice/libpod-conmon-" + kId + ".scope").container_id,
            "");
  EXPECT_EQ(identify_cgroup_path("/system.slice/other-" + kId + ".scope").container_id, "");
  EXPECT_EQ(identify_cgroup_path("/docker/" + kId.substr(1)).container_id, "");  // 63 digits
  std::string upper = kId;
  upper[0] = 'F';
  EXPECT_EQ(identify_cgroup_path("/docker/" + upper).container_id, "");
  EXPECT_EQ(identify_cgroup_path("/docker/" + kId + "0").container_id, "");
}

TEST(CgroupPath, UnitsOfServicesSessionsAndUserServices) {
  EXPECT_EQ(identify_cgroup_path("/system.slice/nginx.service").unit, "nginx.service");
  EXPECT_EQ(identify_cgroup_path("/user.slice/user-1000.slice/session-3.scope").unit,
            "session-3.scope");
  EXPECT_EQ(identify_cgroup_path("/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                 "foo.service")
                .unit,
            "foo.service");
  EXPECT_EQ(identify_cgroup_path("/system.slice/foo.service/worker").unit, "foo.service");
  EXPECT_EQ(identify_cgroup_path("/").unit, "");
  EXPECT_EQ(identify_cgroup_path("/docker/" + kId).unit, "");
  EXPECT_EQ(identify_cgroup_path("").unit, "");
}

TEST(ProcCgroup, UnifiedFirstThenNameSystemd) {
  const std::string hybrid =
      "9:name=systemd:/system.slice/legacy.service\n"
      "4:memory:/docker/" +
      kOtherId +
      "\n"
      "0::/system.slice/docker-" +
      kId + ".scope\n";
  CgroupIdentity identity = identify_proc_cgroup(hybrid);
  EXPECT_EQ(identity.container_id, kId);
  EXPECT_EQ(identity.unit, "docker-" + kId + ".scope");

  // v1 only where v2 says nothing (its root), and never from another controller.
  const std::string legacy = "9:name=systemd:/docker/" + kId +
                             "\n"
                             "4:memory:/system.slice/memory.service\n"
                             "0::/\n";
  identity = identify_proc_cgroup(legacy);
  EXPECT_EQ(identity.container_id, kId);
  EXPECT_EQ(identity.unit, "");

  identity = identify_proc_cgroup("0::/system.slice/cron.service\n");
  EXPECT_EQ(identity.container_id, "");
  EXPECT_EQ(identity.unit, "cron.service");
  identity = identify_proc_cgroup("garbage\n::\n1:\n");
  EXPECT_EQ(identity.container_id, "");
  EXPECT_EQ(identity.unit, "");
}

// A fake /proc: boot at kBootMs, 100 ticks a second.
constexpr std::uint64_t kBootMs = 1'700'000'000'000;

class FakeProc {
 public:
  void add(std::uint32_t pid, std::uint32_t ppid, const std::string& comm,
           std::uint64_t start_ticks, const std::string& cgroup) {
    const std::filesystem::path dir = root_ / std::to_string(pid);
    std::filesystem::create_directories(dir);
    write_file(dir / "stat", std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) +
                                 " 1 1 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 " +
                                 std::to_string(start_ticks) + " 1000 100\n");
    write_file(dir / "cgroup", cgroup);
  }
  void remove(std::uint32_t pid) { std::filesystem::remove_all(root_ / std::to_string(pid)); }
  ProcessContextConfig config(std::size_t capacity = 64) const {
    ProcessContextConfig config;
    config.capacity = capacity;
    config.proc_root = root_.path().string();
    config.boot_time_ms = kBootMs;
    config.ticks_per_second = 100;
    return config;
  }

 private:
  TempDir root_;
};

// Event times: ms since the epoch, `ticks` after boot.
std::uint64_t at_tick(std::uint64_t ticks) { return kBootMs + ticks * 10; }

std::string docker(const std::string& id) { return "0::/system.slice/docker-" + id + ".scope\n"; }

TEST(ProcessContexts, ReadsStartContainerAndUnitThenHits) {
  FakeProc proc;
  proc.add(100, 1, "bash", 500, "0::/system.slice/cron.service\n");
  proc.add(200, 100, "app (x) y", 1000, docker(kId));  // a name with a space and a ')'
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(200, 100, at_tick(1500), at_tick(1501), context));
  EXPECT_EQ(context.start_ticks, 1000u);
  EXPECT_EQ(context.start_ms, kBootMs + 10'000);
  EXPECT_EQ(context.container(), kId);
  EXPECT_EQ(context.systemd_unit(), "docker-" + kId + ".scope");
  EXPECT_EQ(context.parent_start_ticks, 500u);
  EXPECT_EQ(context.parent_name(), "bash");
  EXPECT_FALSE(context.inherited);
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load(), 2u);

  // The same process a moment later: from the table, /proc untouched.
  proc.remove(200);
  ASSERT_TRUE(contexts.lookup(200, 100, at_tick(1550), at_tick(1551), context));
  EXPECT_EQ(context.container(), kId);
  EXPECT_EQ(context.start_ticks, 1000u);
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load(), 2u);
  EXPECT_EQ(contexts.stats().process_context_hits.load(), 1u);
}

TEST(ProcessContexts, AProcessGoneInheritsItsParentsContainerAndUnit) {
  FakeProc proc;
  proc.add(100, 1, "runner", 500, docker(kId));
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(300, 100, at_tick(900), at_tick(901), context));  // 300 is gone
  EXPECT_TRUE(context.inherited);
  EXPECT_EQ(context.container(), kId);
  EXPECT_EQ(context.start_ticks, 0u);  // its own start is unknown
  EXPECT_EQ(context.start_ms, 0u);
  EXPECT_EQ(context.parent_name(), "runner");
  EXPECT_EQ(contexts.stats().process_context_inherited.load(), 1u);

  // Neither process nor parent: nothing attached, counted.
  EXPECT_FALSE(contexts.lookup(301, 302, at_tick(900), at_tick(901), context));
  EXPECT_EQ(contexts.stats().process_context_unknown.load(), 1u);
}

TEST(ProcessContexts, APidReusedAfterTheRecordIsAnotherProcess) {
  FakeProc proc;
  proc.add(100, 1, "runner", 500, docker(kId));
  // Pid 200 now belongs to a process that started after the record's time.
  proc.add(200, 1, "newcomer", 2000, "0::/system.slice/other.service\n");
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(200, 100, at_tick(1500), at_tick(2100), context));
  EXPECT_TRUE(context.inherited);
  EXPECT_EQ(context.container(), kId);
  EXPECT_EQ(context.systemd_unit(), "docker-" + kId + ".scope");
  EXPECT_EQ(context.start_ticks, 0u);
}

TEST(ProcessContexts, AnEntryOlderThanTheTrustWindowIsReadAgain) {
  FakeProc proc;
  proc.add(100, 1, "owner", 500, docker(kId));
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(100, 1, at_tick(600), at_tick(601), context));
  EXPECT_EQ(context.container(), kId);
  // Pid 100 was reused (its new owner started at tick 800); a record 2 s after the table saw it.
  proc.add(100, 1, "owner2", 800, docker(kOtherId));
  ASSERT_TRUE(contexts.lookup(100, 1, at_tick(801), at_tick(802), context));
  EXPECT_EQ(context.container(), kOtherId);
  EXPECT_EQ(context.start_ticks, 800u);
  // Within the window the table answers.
  const std::uint64_t reads = contexts.stats().process_context_proc_reads.load();
  ASSERT_TRUE(contexts.lookup(100, 1, at_tick(850), at_tick(851), context));
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load(), reads);
}

TEST(ProcessContexts, AParentThatStartedAfterItsChildIsNotItsParent) {
  FakeProc proc;
  proc.add(100, 1, "impostor", 1200, docker(kOtherId));
  proc.add(200, 100, "child", 1000, docker(kId));
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(200, 100, at_tick(1300), at_tick(1301), context));
  EXPECT_EQ(context.container(), kId);
  EXPECT_EQ(context.parent_start_ticks, 0u);
  EXPECT_EQ(context.parent_name(), "");
}

TEST(ProcessContexts, AParentSeenBeforeItsChildStartedIsReadAgain) {
  FakeProc proc;
  proc.add(100, 1, "old", 500, docker(kId));
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(100, 1, at_tick(600), at_tick(601), context));
  // Within the trust window pid 100 got a new owner, whose child then ran.
  proc.add(100, 1, "new", 700, docker(kOtherId));
  proc.add(200, 100, "child", 750, "0::/\n");
  ASSERT_TRUE(contexts.lookup(200, 100, at_tick(760), at_tick(761), context));
  EXPECT_EQ(context.parent_name(), "new");
  EXPECT_EQ(context.parent_start_ticks, 700u);
  EXPECT_EQ(context.container(), "");  // its own cgroup, not the parent's
}

TEST(ProcessContexts, AnExecReadsTheProcessAgainForTheCgroupItMovedTo) {
  FakeProc proc;
  proc.add(200, 1, "sh", 700, "0::/\n");
  ProcessContexts contexts(proc.config());
  ProcessContext context;
  ASSERT_TRUE(contexts.lookup(200, 1, at_tick(710), at_tick(711), context));
  EXPECT_EQ(context.container(), "");
  proc.add(200, 1, "app", 700, docker(kId));  // moved itself, then exec'd
  ASSERT_TRUE(contexts.lookup(200, 1, at_tick(720), at_tick(721), context));
  EXPECT_EQ(context.container(), "");  // another syscall: the table's
  ASSERT_TRUE(contexts.lookup(200, 1, at_tick(730), at_tick(731), context, /*exec=*/true));
  EXPECT_EQ(context.container(), kId);
}

TEST(ProcessContexts, CapacityEvictsTheLeastRecentlyUsed) {
  FakeProc proc;
  for (std::uint32_t pid = 100; pid < 110; ++pid) proc.add(pid, 1, "p", 500, docker(kId));
  ProcessContexts contexts(proc.config(4));
  ProcessContext context;
  for (std::uint32_t pid = 100; pid < 110; ++pid)
    ASSERT_TRUE(contexts.lookup(pid, 0, at_tick(600), at_tick(601), context));
  EXPECT_EQ(contexts.size(), 4u);
  EXPECT_EQ(contexts.stats().process_context_evictions.load(), 6u);
}

TEST(ProcessContexts, ChildrenFoundGoneAreRememberedApartAndEvictNothing) {
  FakeProc proc;
  proc.add(100, 1, "runner", 500, docker(kId));
  ProcessContexts contexts(proc.config(4));
  ProcessContext context;
  for (std::uint32_t pid = 300; pid < 400; ++pid) {
    ASSERT_TRUE(contexts.lookup(pid, 100, at_tick(900), at_tick(901), context));
    EXPECT_TRUE(context.inherited);
  }
  EXPECT_EQ(contexts.size(), 1u);  // the runner alone: the table keeps processes it found
  EXPECT_EQ(contexts.stats().process_context_evictions.load(), 0u);
  const std::uint64_t reads = contexts.stats().process_context_proc_reads.load();
  // Among the latest found gone: known gone, no read.
  ASSERT_TRUE(contexts.lookup(399, 100, at_tick(902), at_tick(903), context));
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load(), reads);
  // Older than the latest ProcessContexts::kRecentlyGone: read again.
  ASSERT_TRUE(contexts.lookup(300, 100, at_tick(902), at_tick(903), context));
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load(), reads + 1);
  // Gone longer than the trust window: read again (and so is the runner, seen as long ago).
  ASSERT_TRUE(contexts.lookup(398, 100, at_tick(1100), at_tick(1101), context));
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load(), reads + 3);
  EXPECT_TRUE(context.inherited);
}

TEST(ProcessContexts, AnnotatesSyscallRecordsOfNetlinkAndLogLines) {
  FakeProc proc;
  proc.add(100, 1, "bash", 500, "0::/system.slice/cron.service\n");
  proc.add(200, 100, "true", 1000, docker(kId));
  ProcessContexts contexts(proc.config());
  const std::string when = std::to_string(at_tick(1500) / 1000) + "." +
                           std::to_string(at_tick(1500) % 1000 + 1000).substr(1);
  const std::string syscall_body =
      "arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=100 pid=200 "
      "auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 "
      "comm=\"true\" exe=\"/usr/bin/true\" key=\"exec\"";
  RecordBatch batch;
  batch.append(kTypeSyscall, "audit(" + when + ":7): " + syscall_body);
  batch.append(kTypeCwd, "audit(" + when + ":7): cwd=\"/\"");
  batch.append(RecordBatch::kLogLine,
               "node=h type=SYSCALL msg=audit(" + when + ":8): " + syscall_body);
  batch.append(RecordBatch::kLogLine, "type=CWD msg=audit(" + when + ":8): cwd=\"/\"");
  batch.append(kTypeSyscall, "audit(" + when + ":9): arch=c000003e syscall=59 pid=200");  // no ppid
  contexts.annotate(batch, at_tick(1501));
  ASSERT_NE(batch.context(0), nullptr);
  EXPECT_EQ(batch.context(0)->container(), kId);
  EXPECT_EQ(batch.context(0)->parent_name(), "bash");
  EXPECT_EQ(batch.context(1), nullptr);
  ASSERT_NE(batch.context(2), nullptr);
  EXPECT_EQ(batch.context(2)->start_ticks, 1000u);
  EXPECT_EQ(batch.context(3), nullptr);
  EXPECT_EQ(batch.context(4), nullptr);
  batch.clear();
  batch.append(kTypeSyscall, "audit(" + when + ":10): " + syscall_body);
  EXPECT_EQ(batch.context(0), nullptr);  // cleared with the batch
}

TEST(ProcessContexts, OwnProcessThroughTheRealProc) {
  ProcessContexts contexts(ProcessContextConfig{});
  ProcessContext context;
  const std::uint64_t now = wall_clock_ms();
  ASSERT_TRUE(contexts.lookup(static_cast<std::uint32_t>(::getpid()),
                              static_cast<std::uint32_t>(::getppid()), now, now, context));
  EXPECT_NE(context.start_ticks, 0u);
  EXPECT_LE(context.start_ms, now + 20);
  EXPECT_GT(context.start_ms + 24ull * 3600 * 1000, now);  // this test started less than a day ago
}

// A child of this test that waits until it is killed.
pid_t start_waiting_child() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  return pid;
}

void end_child(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(ProcessContexts, ARunningParentIsCheckedByItsPidfdThroughTheRealProc) {
  ProcessContexts contexts(ProcessContextConfig{});
  const auto self = static_cast<std::uint32_t>(::getpid());
  ProcessContext context;
  std::uint64_t now = wall_clock_ms();
  ASSERT_TRUE(contexts.lookup(self, static_cast<std::uint32_t>(::getppid()), now, now, context));
  const std::uint64_t own_start_ticks = context.start_ticks;
  const std::uint64_t reads_before = contexts.stats().process_context_proc_reads.load();
  // Each child starts after this process was last seen: the parent is checked for each.
  for (int child_number = 1; child_number <= 3; ++child_number) {
    ::usleep(100 * 1000);  // /proc's start times count in ticks
    const pid_t child = start_waiting_child();
    ASSERT_GT(child, 0);
    ::usleep(50 * 1000);
    now = wall_clock_ms();
    const bool found = contexts.lookup(static_cast<std::uint32_t>(child), self, now, now, context);
    end_child(child);
    ASSERT_TRUE(found);
    EXPECT_EQ(context.parent_start_ticks, own_start_ticks);
    EXPECT_FALSE(context.parent_name().empty());
  }
  // The first check read the parent's stat and kept its pidfd; the next two asked the pidfd.
  EXPECT_EQ(contexts.stats().process_context_pidfd_checks.load(), 2u);
  EXPECT_EQ(contexts.stats().process_context_proc_reads.load() - reads_before, 3u + 1u);
}

}  // namespace
}  // namespace aurelay::correlate
