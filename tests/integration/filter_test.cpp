// The filters before encoding through the daemon: a replay whose noise (a getppid storm, a
// monitoring agent's programs, a service account, a noisy key) is taken out of the output and
// written to filter_file, each filter counted; and an option that could never match refused at
// start with its file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.h"

namespace aurelay {
namespace {

using testing::read_file;
using testing::run_command;
using testing::TempDir;

void write_event(std::ofstream& out, int serial, const std::string& syscall, const std::string& exe,
                 const std::string& auid, const std::string& key) {
  const std::string stamp = "msg=audit(1700000000.123:" + std::to_string(serial) + "): ";
  out << "type=SYSCALL " << stamp << "arch=c000003e syscall=" << syscall
      << " success=yes exit=0 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=" << 1000 + serial
      << " auid=" << auid << " uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
      << "tty=(none) ses=1 comm=\"x\" exe=\"" << exe << "\" key=" << key << "\n"
      << "type=PROCTITLE " << stamp << "proctitle=\"" << exe << "\"\n"
      << "type=EOE " << stamp << "\n";
}

TEST(Filters, NoiseGoesToFilterFileAndEachFilterCountsWhatItTook) {
  TempDir dir;
  const auto input = dir / "input.log";
  {
    std::ofstream out(input);
    int serial = 1;
    for (int i = 0; i < 200; ++i) write_event(out, serial++, "110", "/bin/storm", "1000", "(null)");
    for (int i = 0; i < 50; ++i)
      write_event(out, serial++, "59", "/usr/lib/nagios/check_load", "1000", "\"exec\"");
    for (int i = 0; i < 30; ++i)
      write_event(out, serial++, "59", "/usr/bin/id", "4242", "\"exec\"");
    for (int i = 0; i < 20; ++i)
      write_event(out, serial++, "2", "/usr/bin/cat", "1000", "\"noise\"");
    for (int i = 0; i < 70; ++i)
      write_event(out, serial++, "59", "/usr/bin/ls", "1000", "\"exec\"");
  }
  const auto run = run_command({AURELAY_BINARY,
                                "--config",
                                testing::private_config(dir),
                                "--input",
                                input.string(),
                                "--output",
                                (dir / "documents.json").string(),
                                "--state_file",
                                "",
                                "--filter_syscalls",
                                "getppid",
                                "--filter_exe",
                                "^/usr/lib/nagios/",
                                "--filter_uids",
                                "4242",
                                "--filter_keys",
                                "noise",
                                "--filter_action",
                                "file",
                                "--filter_file",
                                (dir / "filtered.json").string(),
                                "--metrics_file",
                                (dir / "aurelay.prom").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output();
  const auto documents = testing::documents_in(dir / "documents.json");
  EXPECT_EQ(documents.size(), 70U);
  std::istringstream lines(read_file(dir / "documents.json"));
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(line.find("\"/usr/bin/ls\""), std::string::npos) << line;  // the unfiltered ones
  }
  EXPECT_EQ(testing::documents_in(dir / "filtered.json").size(), 300U);
  EXPECT_NE(run.err.find("events filtered by syscall 200"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("events filtered by exe 50"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("events filtered by uid 30"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("events filtered by key 20"), std::string::npos) << run.err;
  const std::string metrics = read_file(dir / "aurelay.prom");
  EXPECT_NE(metrics.find("\naurelay_events_filtered_total{filter=\"syscall\"} 200\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\naurelay_events_filtered_total{filter=\"key\"} 20\n"),
            std::string::npos);
}

TEST(Filters, DropOnlyCounts) {
  TempDir dir;
  const auto input = dir / "input.log";
  {
    std::ofstream out(input);
    for (int i = 1; i <= 40; ++i)
      write_event(out, i, i % 2 ? "110" : "59", "/bin/x", "1000", "(null)");
  }
  const auto run = run_command({AURELAY_BINARY, "--config", testing::private_config(dir), "--input",
                                input.string(), "--output", (dir / "documents.json").string(),
                                "--state_file", "", "--filter_syscalls", "getppid"});
  ASSERT_EQ(run.exit_code, 0) << run.output();
  EXPECT_EQ(testing::documents_in(dir / "documents.json").size(), 20U);
  EXPECT_NE(run.err.find("events filtered by syscall 20"), std::string::npos) << run.err;
}

TEST(Filters, AFilterThatCouldNeverMatchStopsTheStartNamingFileAndLine) {
  TempDir dir;
  // The private settings, a comment, then the filter: its line number follows theirs.
  const std::string settings = read_file(testing::private_config(dir));
  const auto filter_line = std::count(settings.begin(), settings.end(), '\n') + 2;
  testing::write_file(dir / "aurelay.conf",
                      settings + "# noise\nfilter_syscalls = getppid, getppidd\n");
  std::filesystem::permissions(dir / "aurelay.conf", std::filesystem::perms::owner_read |
                                                         std::filesystem::perms::owner_write);
  const auto run =
      run_command({AURELAY_BINARY, "--config", (dir / "aurelay.conf").string(), "--check-config"});
  EXPECT_EQ(run.exit_code, 2) << run.output();
  EXPECT_NE(run.err.find((dir / "aurelay.conf").string() + ":" + std::to_string(filter_line) +
                         ": filter_syscalls: unknown syscall 'getppidd'"),
            std::string::npos)
      << run.output();
  const auto regex = run_command({AURELAY_BINARY, "--config", testing::private_config(dir),
                                  "--filter_exe", "(", "--check-config"});
  EXPECT_EQ(regex.exit_code, 2) << regex.output();
  EXPECT_NE(regex.err.find("command line: filter_exe: '(' is not a regular expression"),
            std::string::npos)
      << regex.output();
}

}  // namespace
}  // namespace aurelay
