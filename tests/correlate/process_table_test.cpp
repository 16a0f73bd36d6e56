// Process table: exact hit/miss/replace/eviction counts, the capacity bound (against a reference
// model under churn), the /proc fallback against a fake proc root, and real processes read
// through the real /proc (a renamed child, a reaped one, a zombie, pid reuse, an orphan).
#include "correlate/process_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_support.h"

namespace aurelay::correlate {
namespace {

using aurelay::testing::TempDir;
using aurelay::testing::write_file;

ProcessTableConfig table_config(std::size_t capacity) {
  ProcessTableConfig config;
  config.capacity = capacity;
  return config;
}

ProcessTableConfig fallback_config(const std::filesystem::path& proc_root,
                                   std::size_t capacity = 16) {
  ProcessTableConfig config;
  config.capacity = capacity;
  config.proc_fallback = true;
  config.proc_root = proc_root.string();
  return config;
}

void write_comm(const TempDir& root, std::uint32_t pid, const std::string& content) {
  std::filesystem::create_directories(root / std::to_string(pid));
  write_file(root / (std::to_string(pid) + "/comm"), content);
}

TEST(ProcessTableTest, UnknownPidIsAMiss) {
  ProcessTable table(table_config(8));
  EXPECT_EQ(table.name_of(42), "");
  EXPECT_EQ(table.stats().parent_unknown.load(), 1u);
  EXPECT_EQ(table.stats().parent_known.load(), 0u);
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 0u);
}

TEST(ProcessTableTest, ObservedPidIsAHit) {
  ProcessTable table(table_config(8));
  table.observe(100, 1, "bash", "/usr/bin/bash");
  EXPECT_EQ(table.name_of(100), "bash");
  EXPECT_EQ(table.name_of(100), "bash");
  EXPECT_EQ(table.stats().parent_known.load(), 2u);
  EXPECT_EQ(table.stats().parent_unknown.load(), 0u);
  EXPECT_EQ(table.size(), 1u);
}

// Start times from the reader's /proc lookups: a parent pid whose owner started at another time
// than the table's entry is another process (the pid was reused); the reader's sighting names it.
TEST(ProcessTableTest, ASightingWithAnotherStartTimeReplacesAReusedParent) {
  ProcessTable table(table_config(8));
  table.observe(100, 1, "alpha", "/usr/bin/alpha", 500);
  EXPECT_EQ(table.name_of(100, ParentSighting{500, "alpha"}), "alpha");
  EXPECT_EQ(table.name_of(100, ParentSighting{900, "gamma"}), "gamma");
  EXPECT_EQ(table.stats().parent_reused.load(), 1u);
  // The entry is the new owner's now.
  EXPECT_EQ(table.name_of(100, ParentSighting{900, "gamma"}), "gamma");
  EXPECT_EQ(table.name_of(100), "gamma");
  EXPECT_EQ(table.stats().parent_reused.load(), 1u);
  EXPECT_EQ(table.stats().parent_known.load(), 3u);
}

TEST(ProcessTableTest, UnknownStartTimesTrustTheTable) {
  ProcessTable table(table_config(8));
  table.observe(100, 1, "alpha", "/usr/bin/alpha");  // a record without a context
  EXPECT_EQ(table.name_of(100, ParentSighting{900, "gamma"}), "alpha");
  table.observe(101, 1, "beta", "/usr/bin/beta", 700);
  EXPECT_EQ(table.name_of(101, ParentSighting{0, ""}), "beta");
  // The same process's later record without a context keeps its start time.
  table.observe(101, 1, "beta", "/usr/bin/beta");
  EXPECT_EQ(table.name_of(101, ParentSighting{900, "gamma"}), "gamma");
  EXPECT_EQ(table.stats().parent_reused.load(), 1u);
}

TEST(ProcessTableTest, AnUnknownParentIsNamedByTheSightingBeforeProc) {
  TempDir root;
  write_comm(root, 100, "fromproc\n");
  ProcessTable table(fallback_config(root.path()));
  EXPECT_EQ(table.name_of(100, ParentSighting{500, "sighted"}), "sighted");
  EXPECT_EQ(table.stats().parent_sighted.load(), 1u);
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 0u);
  EXPECT_EQ(table.name_of(100), "sighted");
}

TEST(ProcessTableTest, TheSameProcessAgainIsNoReplacement) {
  ProcessTable table(table_config(8));
  for (int i = 0; i < 3; ++i) table.observe(100, 1, "bash", "/usr/bin/bash");
  EXPECT_EQ(table.replaced(), 0u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ProcessTableTest, PidReuseWithAnotherParentReplaces) {
  ProcessTable table(table_config(8));
  table.observe(100, 1, "bash", "/usr/bin/bash");
  table.observe(100, 7, "bash", "/usr/bin/bash");  // same name and image, another parent
  EXPECT_EQ(table.replaced(), 1u);
  table.observe(100, 7, "cron", "/usr/sbin/cron");  // reused by another program
  EXPECT_EQ(table.replaced(), 2u);
  EXPECT_EQ(table.name_of(100), "cron");
  EXPECT_EQ(table.size(), 1u);
}

TEST(ProcessTableTest, ExecveOfANewImageReplaces) {
  ProcessTable table(table_config(8));
  table.observe(200, 100, "bash", "/usr/bin/bash");  // fork of the shell, audited
  table.observe(200, 100, "ssh", "/usr/bin/ssh");    // its execve: the record shows the new image
  EXPECT_EQ(table.name_of(200), "ssh");
  EXPECT_EQ(table.replaced(), 1u);
}

TEST(ProcessTableTest, SameNameAnotherImageReplaces) {
  ProcessTable table(table_config(8));
  table.observe(200, 100, "python3", "/usr/bin/python3.11");
  table.observe(200, 100, "python3", "/opt/python/bin/python3.12");
  EXPECT_EQ(table.replaced(), 1u);
}

TEST(ProcessTableTest, RenameReplaces) {
  ProcessTable table(table_config(8));
  table.observe(300, 1, "systemd", "/usr/lib/systemd/systemd");
  table.observe(300, 1, "(sd-pam)", "/usr/lib/systemd/systemd");
  EXPECT_EQ(table.name_of(300), "(sd-pam)");
  EXPECT_EQ(table.replaced(), 1u);
}

TEST(ProcessTableTest, PidZeroIsNoProcess) {
  ProcessTable table(table_config(8));
  table.observe(0, 0, "swapper", "");
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.name_of(0), "");
  EXPECT_EQ(table.stats().parent_known.load() + table.stats().parent_unknown.load(), 0u);
}

TEST(ProcessTableTest, CommIsCutToSixteenBytes) {
  ProcessTable table(table_config(8));
  table.observe(5, 1, "a-name-much-longer-than-a-kernel-comm", "/x");
  EXPECT_EQ(table.name_of(5), "a-name-much-long");
  table.observe(6, 1, std::string_view("nul\0byte", 8), "/x");  // decoded bytes kept as they are
  EXPECT_EQ(table.name_of(6), std::string_view("nul\0byte", 8));
}

TEST(ProcessTableTest, CapacityEvictsTheLeastRecentlySeen) {
  ProcessTable table(table_config(3));
  EXPECT_EQ(table.capacity(), 3u);
  table.observe(1, 0, "one", "/1");
  table.observe(2, 0, "two", "/2");
  table.observe(3, 0, "three", "/3");
  EXPECT_EQ(table.name_of(1), "one");  // a lookup counts as seen: 2 is now the oldest
  table.observe(4, 0, "four", "/4");
  EXPECT_EQ(table.stats().process_table_evictions.load(), 1u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.name_of(2), "");
  EXPECT_EQ(table.name_of(1), "one");
  EXPECT_EQ(table.name_of(3), "three");
  EXPECT_EQ(table.name_of(4), "four");
  table.observe(3, 0, "three", "/3");  // observing counts as seen too: 1 is now the oldest
  table.observe(5, 0, "five", "/5");
  EXPECT_EQ(table.name_of(1), "");
  EXPECT_EQ(table.stats().process_table_evictions.load(), 2u);
  EXPECT_EQ(table.stats().parent_known.load(), 4u);
  EXPECT_EQ(table.stats().parent_unknown.load(), 2u);
  EXPECT_EQ(table.replaced(), 0u);
}

TEST(ProcessTableTest, ZeroCapacityStillHoldsOne) {
  ProcessTable table(table_config(0));
  EXPECT_EQ(table.capacity(), 1u);
  table.observe(1, 0, "one", "/1");
  table.observe(2, 0, "two", "/2");
  EXPECT_EQ(table.name_of(2), "two");
  EXPECT_EQ(table.name_of(1), "");
  EXPECT_EQ(table.stats().process_table_evictions.load(), 1u);
}

// A plain least-recently-seen map to check the table against under churn: every answer and
// every counter must agree, whatever the probe runs and backward shifts of the index did.
class ReferenceTable {
 public:
  explicit ReferenceTable(std::size_t capacity) : capacity_(capacity) {}

  void observe(std::uint32_t pid, std::uint32_t ppid, const std::string& comm,
               const std::string& exe) {
    auto found = entries_.find(pid);
    if (found != entries_.end()) {
      Entry& entry = found->second;
      if (entry.ppid != ppid || entry.comm != comm || entry.exe != exe) ++replaced;
      entry = Entry{ppid, comm, exe, entry.position};
      touch(pid);
      return;
    }
    add(pid, Entry{ppid, comm, exe, {}});
  }

  std::optional<std::string> name_of(std::uint32_t pid) {
    auto found = entries_.find(pid);
    if (found == entries_.end()) return std::nullopt;
    touch(pid);
    return found->second.comm;
  }

  std::size_t size() const { return entries_.size(); }
  std::uint64_t evictions = 0;
  std::uint64_t replaced = 0;

 private:
  struct Entry {
    std::uint32_t ppid;
    std::string comm;
    std::string exe;
    std::list<std::uint32_t>::iterator position;
  };

  void touch(std::uint32_t pid) {
    Entry& entry = entries_.at(pid);
    order_.erase(entry.position);
    order_.push_front(pid);
    entry.position = order_.begin();
  }

  void add(std::uint32_t pid, Entry entry) {
    if (entries_.size() == capacity_) {
      entries_.erase(order_.back());
      order_.pop_back();
      ++evictions;
    }
    order_.push_front(pid);
    entry.position = order_.begin();
    entries_.emplace(pid, std::move(entry));
  }

  std::size_t capacity_;
  std::list<std::uint32_t> order_;  // most recently seen first
  std::unordered_map<std::uint32_t, Entry> entries_;
};

TEST(ProcessTableTest, ChurnAgreesWithAReferenceModel) {
  for (std::size_t capacity : {1u, 7u, 64u, 1000u}) {
    SCOPED_TRACE("capacity " + std::to_string(capacity));
    ProcessTable table(table_config(capacity));
    ReferenceTable reference(capacity);
    std::mt19937 random(static_cast<std::uint32_t>(capacity));
    // Pids from a range a few times the capacity (hits, misses and evictions all happen), with
    // some pids far apart (the index wraps around).
    const std::uint32_t range = static_cast<std::uint32_t>(capacity * 3 + 5);
    std::uniform_int_distribution<std::uint32_t> pick(1, range);
    std::uint64_t hits = 0, misses = 0;
    for (int step = 0; step < 200000; ++step) {
      std::uint32_t pid = pick(random);
      if (step % 3 == 0) pid = pid * 65537u;  // sparse pids too
      if (random() % 2 == 0) {
        const std::uint32_t ppid = random() % 3;
        const std::string comm = "c" + std::to_string(random() % 4);
        const std::string exe = "/bin/e" + std::to_string(random() % 2);
        table.observe(pid, ppid, comm, exe);
        reference.observe(pid, ppid, comm, exe);
      } else {
        std::optional<std::string> expected = reference.name_of(pid);
        ASSERT_EQ(std::string(table.name_of(pid)), expected.value_or("")) << "step " << step;
        ++(expected ? hits : misses);
      }
    }
    EXPECT_EQ(table.size(), reference.size());
    EXPECT_EQ(table.stats().parent_known.load(), hits);
    EXPECT_EQ(table.stats().parent_unknown.load(), misses);
    EXPECT_EQ(table.stats().process_table_evictions.load(), reference.evictions);
    EXPECT_EQ(table.replaced(), reference.replaced);
    EXPECT_GT(table.stats().process_table_evictions.load(), 0u);
    EXPECT_GT(hits, 0u);
  }
}

// --- /proc fallback against a fake proc root --------------------------------------------------

TEST(ProcessTableProcFallbackTest, ReadsCommOnceAndKeepsIt) {
  TempDir root;
  write_comm(root, 123, "sftp\n");
  ProcessTable table(fallback_config(root.path()));
  EXPECT_EQ(table.name_of(123), "sftp");
  EXPECT_EQ(table.stats().parent_unknown.load(), 1u);
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 1u);
  EXPECT_EQ(table.proc_failures(), 0u);
  std::filesystem::remove_all(root / "123");
  EXPECT_EQ(table.name_of(123), "sftp");  // kept: a hit, no second read
  EXPECT_EQ(table.stats().parent_known.load(), 1u);
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 1u);
}

TEST(ProcessTableProcFallbackTest, MissingProcessIsAFailureAndNotCached) {
  TempDir root;
  ProcessTable table(fallback_config(root.path()));
  EXPECT_EQ(table.name_of(999), "");
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 1u);
  EXPECT_EQ(table.proc_failures(), 1u);
  write_comm(root, 999, "late\n");  // the process shows up: the next lookup finds it
  EXPECT_EQ(table.name_of(999), "late");
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 2u);
  EXPECT_EQ(table.proc_failures(), 1u);
  EXPECT_EQ(table.stats().parent_unknown.load(), 2u);
}

TEST(ProcessTableProcFallbackTest, EmptyCommIsAFailure) {
  TempDir root;
  write_comm(root, 7, "");
  write_comm(root, 8, "\n");
  ProcessTable table(fallback_config(root.path()));
  EXPECT_EQ(table.name_of(7), "");
  EXPECT_EQ(table.name_of(8), "");
  EXPECT_EQ(table.proc_failures(), 2u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(ProcessTableProcFallbackTest, ReadsAtMostOneBoundedChunk) {
  TempDir root;
  write_comm(root, 9, std::string(100, 'x') + "\n");
  write_comm(root, 10, "no-newline");
  ProcessTable table(fallback_config(root.path()));
  EXPECT_EQ(table.name_of(9), std::string(ProcessTable::kMaxCommBytes, 'x'));
  EXPECT_EQ(table.name_of(10), "no-newline");
}

TEST(ProcessTableProcFallbackTest, RootWithOrWithoutTrailingSlash) {
  TempDir root;
  write_comm(root, 11, "cron\n");
  ProcessTable plain(fallback_config(root.path()));
  ProcessTable slashed(fallback_config(root.path().string() + "/"));
  EXPECT_EQ(plain.name_of(11), "cron");
  EXPECT_EQ(slashed.name_of(11), "cron");
}

TEST(ProcessTableProcFallbackTest, OffNeverReadsTheFilesystem) {
  TempDir root;
  write_comm(root, 123, "sftp\n");  // would answer if it were read
  ProcessTableConfig config = fallback_config(root.path());
  config.proc_fallback = false;
  ProcessTable table(config);
  EXPECT_EQ(table.name_of(123), "");
  EXPECT_EQ(table.stats().parent_unknown.load(), 1u);
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 0u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(ProcessTableProcFallbackTest, AHitNeverReadsProc) {
  TempDir root;
  write_comm(root, 123, "beta\n");  // what /proc says now
  ProcessTable table(fallback_config(root.path()));
  table.observe(123, 1, "alpha", "/usr/bin/alpha");  // what the stream showed last
  EXPECT_EQ(table.name_of(123), "alpha");            // the documented stale answer
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 0u);
}

TEST(ProcessTableProcFallbackTest, ARecordRefreshesAProcEntry) {
  TempDir root;
  write_comm(root, 123, "sftp\n");
  write_comm(root, 124, "sftp\n");
  ProcessTable table(fallback_config(root.path()));
  EXPECT_EQ(table.name_of(123), "sftp");
  EXPECT_EQ(table.name_of(124), "sftp");
  table.observe(123, 1, "sftp", "/usr/bin/sftp");  // same name: ppid and exe just learnt
  EXPECT_EQ(table.replaced(), 0u);
  table.observe(123, 1, "sftp", "/usr/bin/sftp");
  EXPECT_EQ(table.replaced(), 0u);
  table.observe(124, 1, "ssh", "/usr/bin/ssh");  // another name: replaced
  EXPECT_EQ(table.replaced(), 1u);
  EXPECT_EQ(table.name_of(124), "ssh");
}

TEST(ProcessTableProcFallbackTest, ProcEntriesCountTowardsTheCapacity) {
  TempDir root;
  for (std::uint32_t pid = 1; pid <= 3; ++pid) write_comm(root, pid, "p" + std::to_string(pid));
  ProcessTable table(fallback_config(root.path(), 2));
  EXPECT_EQ(table.name_of(1), "p1");
  EXPECT_EQ(table.name_of(2), "p2");
  EXPECT_EQ(table.name_of(3), "p3");
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.stats().process_table_evictions.load(), 1u);
  EXPECT_EQ(table.name_of(1), "p1");  // evicted, read again
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 4u);
}

// --- real processes through the real /proc ----------------------------------------------------

ProcessTableConfig real_proc_config() { return fallback_config("/proc"); }

// A forked child that renamed itself (PR_SET_NAME) and waits until release() (or exits at once
// when `exit_at_once`, left unreaped until reap()).
class NamedChild {
 public:
  NamedChild(const char* name, bool exit_at_once = false) {
    int ready[2], release[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(release[1]);  // else the child holds its own release pipe open
      prctl(PR_SET_NAME, name, 0, 0, 0);
      char byte = 'r';
      if (write(ready[1], &byte, 1) != 1) _exit(1);
      if (exit_at_once) _exit(0);
      while (read(release[0], &byte, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    release_fd_ = release[1];
    char byte;
    if (pid_ > 0 && read(ready[0], &byte, 1) != 1) pid_ = -1;
    close(ready[0]);
  }
  ~NamedChild() { reap(); }

  pid_t pid() const { return pid_; }
  std::uint32_t upid() const { return static_cast<std::uint32_t>(pid_); }

  void reap() {
    if (release_fd_ >= 0) close(release_fd_), release_fd_ = -1;
    if (pid_ > 0) aurelay::testing::wait_for_exit(pid_), pid_ = -pid_;
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::size_t close_paren = text.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= text.size() ? '?'
                                                                            : text[close_paren + 2];
}

TEST(ProcessTableRealProcTest, NamesARenamedChild) {
  NamedChild child("aurelay-pt-kid");
  ASSERT_GT(child.pid(), 0);
  ProcessTable table(real_proc_config());
  EXPECT_EQ(table.name_of(child.upid()), "aurelay-pt-kid");
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 1u);
  EXPECT_EQ(table.proc_failures(), 0u);
  std::ifstream self("/proc/self/comm");
  std::string own_name;
  std::getline(self, own_name);
  EXPECT_EQ(table.name_of(static_cast<std::uint32_t>(getpid())), own_name);
}

TEST(ProcessTableRealProcTest, AReapedProcessIsUnknownButItsLastNameIsKept) {
  NamedChild child("aurelay-pt-gone");
  ASSERT_GT(child.pid(), 0);
  const std::uint32_t pid = child.upid();
  ProcessTable seen_alive(real_proc_config());
  EXPECT_EQ(seen_alive.name_of(pid), "aurelay-pt-gone");
  child.reap();
  ASSERT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
  // /proc has nothing any more (what audisp-json would have read) ...
  ProcessTable fresh(real_proc_config());
  EXPECT_EQ(fresh.name_of(pid), "");
  EXPECT_EQ(fresh.stats().parent_proc_reads.load(), 1u);
  EXPECT_EQ(fresh.proc_failures(), 1u);
  // ... the table still names the parent it saw.
  EXPECT_EQ(seen_alive.name_of(pid), "aurelay-pt-gone");
  EXPECT_EQ(seen_alive.stats().parent_proc_reads.load(), 1u);
}

TEST(ProcessTableRealProcTest, AZombieStillAnswers) {
  NamedChild child("aurelay-pt-zomb", /*exit_at_once=*/true);
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(aurelay::testing::wait_for([&] { return process_state(child.pid()) == 'Z'; },
                                         std::chrono::seconds(5)));
  ProcessTable table(real_proc_config());
  EXPECT_EQ(table.name_of(child.upid()), "aurelay-pt-zomb");
}

// spawn_tree started with its stdin and stdout on pipes: it prints lines ("pid=P ppid=Q comm=C")
// and holds until release().
class HeldTree {
 public:
  explicit HeldTree(const std::vector<std::string>& steps) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    std::vector<std::string> argv{AURELAY_SPAWN_TREE};
    argv.insert(argv.end(), steps.begin(), steps.end());
    std::string error;
    launcher_ = aurelay::testing::spawn_program(argv, in[0], out[1], -1, error);
    close(in[0]);
    close(out[1]);
    stdin_fd_ = in[1];
    stdout_fd_ = out[0];
  }
  ~HeldTree() { release(); }

  pid_t launcher() const { return launcher_; }

  // The next printed line's value of `key` ("pid", "ppid", "comm"); empty at end of output.
  std::map<std::string, std::string> next_line() {
    std::string line;
    char c;
    while (read(stdout_fd_, &c, 1) == 1 && c != '\n') line.push_back(c);
    std::map<std::string, std::string> fields;
    std::istringstream words(line);
    for (std::string word; words >> word;) {
      std::size_t equals = word.find('=');
      if (equals != std::string::npos) fields[word.substr(0, equals)] = word.substr(equals + 1);
    }
    return fields;
  }

  // Lets the tree finish; the launcher's exit status.
  int release() {
    if (stdin_fd_ >= 0) close(stdin_fd_), stdin_fd_ = -1;
    if (stdout_fd_ >= 0) close(stdout_fd_), stdout_fd_ = -1;
    if (launcher_ > 0) status_ = aurelay::testing::wait_for_exit(launcher_), launcher_ = -1;
    return status_;
  }

 private:
  pid_t launcher_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int status_ = -1;
};

// A pid nobody holds now, high in the pid space.
std::uint32_t free_pid(std::mt19937& random) {
  std::ifstream max_file("/proc/sys/kernel/pid_max");
  std::uint32_t pid_max = 32768;
  max_file >> pid_max;
  std::uniform_int_distribution<std::uint32_t> pick(pid_max / 2, pid_max - 1);
  for (;;) {
    std::uint32_t pid = pick(random);
    if (!std::filesystem::exists("/proc/" + std::to_string(pid))) return pid;
  }
}

TEST(ProcessTableRealProcTest, PidReuseGivesTheStaleNameUntilARecordReplacesIt) {
  if (geteuid() != 0) GTEST_SKIP() << "choosing a pid (clone3 set_tid) needs root";
  std::mt19937 random(static_cast<std::uint32_t>(getpid()));
  ProcessTable table(real_proc_config());
  std::uint32_t pid = 0;
  for (int attempt = 0; attempt < 20 && pid == 0; ++attempt) {
    const std::uint32_t wanted = free_pid(random);
    HeldTree alpha({"pid=" + std::to_string(wanted), "name=pt-alpha", "print", "hold"});
    auto line = alpha.next_line();
    if (line.empty()) {
      int status = alpha.release();
      if (status == 4) GTEST_SKIP() << "the kernel refuses clone3 with set_tid here";
      ASSERT_EQ(status, 3) << "spawn_tree failed";
      continue;  // taken meanwhile: another pid
    }
    ASSERT_EQ(line["pid"], std::to_string(wanted));
    ASSERT_EQ(line["comm"], "pt-alpha");
    EXPECT_EQ(table.name_of(wanted), "pt-alpha");  // from /proc while it lives
    EXPECT_EQ(alpha.release(), 0);
    pid = wanted;
  }
  ASSERT_NE(pid, 0u) << "no free pid found";

  HeldTree beta({"pid=" + std::to_string(pid), "name=pt-beta", "print", "hold"});
  auto line = beta.next_line();
  ASSERT_EQ(line["pid"], std::to_string(pid)) << "pid " << pid << " taken again meanwhile";
  // The same pid, another process: the table still says what it saw (documented staleness) ...
  EXPECT_EQ(table.name_of(pid), "pt-alpha");
  EXPECT_EQ(table.stats().parent_proc_reads.load(), 1u);
  // ... /proc says the new owner ...
  ProcessTable fresh(real_proc_config());
  EXPECT_EQ(fresh.name_of(pid), "pt-beta");
  // ... and the new owner's first audited record replaces the entry.
  table.observe(pid, static_cast<std::uint32_t>(beta.launcher()), "pt-beta", AURELAY_SPAWN_TREE);
  EXPECT_EQ(table.replaced(), 1u);
  EXPECT_EQ(table.name_of(pid), "pt-beta");
  EXPECT_EQ(beta.release(), 0);
}

TEST(ProcessTableRealProcTest, AnOrphanNamesItsReaperNotItsDeadParent) {
  // launcher (subreaper) -> parent "pt-doomed" -> child; the parent exits before the child goes on.
  HeldTree tree({"fork", "name=pt-doomed", "print", "orphan", "print", "hold"});
  ASSERT_GT(tree.launcher(), 0);
  auto parent = tree.next_line();
  auto child = tree.next_line();
  ASSERT_FALSE(parent.empty());
  ASSERT_FALSE(child.empty());
  EXPECT_EQ(parent["ppid"], std::to_string(tree.launcher()));
  // What the child's records now show as ppid: the reaper, not the parent that made it.
  EXPECT_EQ(child["ppid"], std::to_string(tree.launcher()));
  EXPECT_NE(child["ppid"], parent["pid"]);
  const auto dead_parent = static_cast<std::uint32_t>(std::stoul(parent["pid"]));
  ASSERT_TRUE(aurelay::testing::wait_for(
      [&] { return !std::filesystem::exists("/proc/" + parent["pid"]); }, std::chrono::seconds(5)));
  ProcessTable table(real_proc_config());
  EXPECT_EQ(table.name_of(static_cast<std::uint32_t>(std::stoul(child["ppid"]))), "spawn_tree");
  EXPECT_EQ(table.name_of(dead_parent), "");
  EXPECT_EQ(table.proc_failures(), 1u);
  EXPECT_EQ(tree.release(), 0);
}

}  // namespace
}  // namespace aurelay::correlate
