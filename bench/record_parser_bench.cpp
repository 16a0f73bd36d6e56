// Record parser micro-benchmarks: header parsing, field splitting and both together, over every
// line of the shared corpus (real-small.log) when present, else over a few built-in lines.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/record.h"

namespace {

using aurelay::correlate::Field;
using aurelay::correlate::ParseStatus;
using aurelay::correlate::RecordView;

constexpr const char* kBuiltinLines[] = {
    "type=SYSCALL msg=audit(1795305790.114:6190): arch=c000003e syscall=59 success=yes exit=0 "
    "a0=55d5c5a1f2b0 a1=55d5c5a1f3d0 a2=55d5c5a1f410 a3=8 items=2 ppid=31400 pid=31417 "
    "auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 "
    "comm=\"ls\" exe=\"/usr/bin/ls\" key=\"corpus-exec\"",
    "type=EXECVE msg=audit(1795305790.114:6190): argc=3 a0=\"ls\" a1=\"-la\" a2=\"/etc\"",
    "type=CWD msg=audit(1795305790.114:6190): cwd=\"/root\"",
    "type=PATH msg=audit(1795305790.114:6190): item=0 name=\"/usr/bin/ls\" inode=1835 "
    "dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 "
    "cap_fe=0 cap_fver=0 cap_frootid=0",
    "type=PROCTITLE msg=audit(1795305790.114:6190): proctitle=6C73002D6C61002F657463",
    "type=USER_ACCT msg=audit(1795305791.002:6201): pid=31500 uid=0 auid=0 ses=3 "
    "msg='op=PAM:accounting grantors=pam_permit acct=\"root\" exe=\"/usr/bin/su\" "
    "hostname=vm addr=? terminal=/dev/pts/0 res=success'",
};

std::vector<std::string> load_lines() {
  std::vector<std::string> lines;
  const std::filesystem::path corpus =
      std::filesystem::path(AURELAY_SHARED_DIR) / "corpus" / "real-small.log";
  std::ifstream in(corpus);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) {
    for (const char* line : kBuiltinLines) lines.emplace_back(line);
  }
  return lines;
}

const std::vector<std::string>& lines() {
  static const std::vector<std::string> loaded = load_lines();
  return loaded;
}

std::size_t total_bytes() {
  std::size_t bytes = 0;
  for (const std::string& line : lines()) bytes += line.size();
  return bytes;
}

void BM_ParseLogLine(benchmark::State& state) {
  RecordView record;
  for (auto _ : state) {
    for (const std::string& line : lines()) {
      benchmark::DoNotOptimize(aurelay::correlate::parse_log_line(line, record));
      benchmark::DoNotOptimize(record);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines().size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(total_bytes()));
}
BENCHMARK(BM_ParseLogLine);

void BM_SplitFields(benchmark::State& state) {
  std::vector<std::string_view> bodies;
  for (const std::string& line : lines()) {
    RecordView record;
    if (aurelay::correlate::parse_log_line(line, record) == ParseStatus::ok) {
      bodies.push_back(record.body);
    }
  }
  std::vector<Field> fields;
  fields.reserve(4096);
  std::size_t count = 0;
  for (auto _ : state) {
    for (std::string_view body : bodies) {
      fields.clear();
      benchmark::DoNotOptimize(aurelay::correlate::split_fields(body, fields));
      count += fields.size();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(bodies.size()));
  state.counters["fields/record"] =
      static_cast<double>(count) / static_cast<double>(state.iterations() * bodies.size());
}
BENCHMARK(BM_SplitFields);

// One typical SYSCALL record (the first built-in line): the per-record cost the issue names.
void BM_SplitFieldsSyscall(benchmark::State& state) {
  RecordView record;
  aurelay::correlate::parse_log_line(kBuiltinLines[0], record);
  std::vector<Field> fields;
  fields.reserve(64);
  for (auto _ : state) {
    fields.clear();
    benchmark::DoNotOptimize(aurelay::correlate::split_fields(record.body, fields));
    benchmark::DoNotOptimize(fields.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SplitFieldsSyscall);

void BM_ParseAndSplit(benchmark::State& state) {
  RecordView record;
  std::vector<Field> fields;
  fields.reserve(4096);
  for (auto _ : state) {
    for (const std::string& line : lines()) {
      if (aurelay::correlate::parse_log_line(line, record) != ParseStatus::ok) continue;
      fields.clear();
      benchmark::DoNotOptimize(aurelay::correlate::split_fields(record.body, fields));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines().size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(total_bytes()));
}
BENCHMARK(BM_ParseAndSplit);

void BM_RecordTypeFromName(benchmark::State& state) {
  constexpr std::string_view kNames[] = {"SYSCALL", "PROCTITLE", "PATH", "CWD",
                                         "EXECVE",  "USER_ACCT", "EOE",  "CONFIG_CHANGE"};
  for (auto _ : state) {
    for (std::string_view name : kNames) {
      benchmark::DoNotOptimize(aurelay::correlate::record_type_from_name(name));
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(std::size(kNames)));
}
BENCHMARK(BM_RecordTypeFromName);

}  // namespace
