// The local audit log's cost per record: formatting RAW, adding ENRICHED's suffix, and the whole
// write path (format, enrich, write(2) per batch, flush = none) over the records of an exec event
// as the kernel sends them (SYSCALL, BPRM_FCAPS, EXECVE, CWD, two PATH, PROCTITLE, EOE) and of a
// getppid event (SYSCALL, PROCTITLE, EOE).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "auditlog/audit_log.h"
#include "auditlog/record_format.h"

namespace {

using aurelay::auditlog::AuditLog;
using aurelay::auditlog::AuditLogConfig;
using aurelay::auditlog::Enricher;
using aurelay::correlate::RecordBatch;

const std::vector<std::pair<std::uint32_t, std::string>> kExecEvent = {
    {1300,
     "audit(1796546691.656:419963): arch=c000003e syscall=59 success=yes exit=0 a0=56157d5b86d0 "
     "a1=56157d5b85d0 a2=56157d57de80 a3=6d898aa4bc6f0e18 items=2 ppid=8980 pid=9006 "
     "auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) "
     "ses=4294967295 comm=\"true\" exe=\"/usr/bin/true\" key=\"aurelay-bench\""},
    {1321,
     "audit(1796546691.656:419963): fver=0 fp=0 fi=0 fe=0 old_pp=000001fffeffffff old_pi=0 "
     "old_pe=000001fffeffffff old_pa=0 pp=000001fffeffffff pi=0 pe=000001fffeffffff pa=0 "
     "frootid=0"},
    {1309, "audit(1796546691.656:419963): argc=1 a0=\"/usr/bin/true\""},
    {1307, "audit(1796546691.656:419963): cwd=\"/tmp/al\""},
    {1302,
     "audit(1796546691.656:419963): item=0 name=\"/usr/bin/true\" inode=248139 dev=fe:00 "
     "mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
     "cap_fver=0 cap_frootid=0"},
    {1302,
     "audit(1796546691.656:419963): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=332383 "
     "dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 "
     "cap_fe=0 cap_fver=0 cap_frootid=0"},
    {1327, "audit(1796546691.656:419963): proctitle=\"/usr/bin/true\""},
    {1320, "audit(1796546691.656:419963): "},
};

const std::vector<std::pair<std::uint32_t, std::string>> kGetppidEvent = {
    {1300,
     "audit(1796546691.656:419964): arch=c000003e syscall=110 success=yes exit=9006 a0=0 a1=0 "
     "a2=0 a3=0 items=0 ppid=8980 pid=9006 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
     "egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"audit_storm\" "
     "exe=\"/work/main/build/audit_storm\" key=\"aurelay-bench\""},
    {1327, "audit(1796546691.656:419964): proctitle=617564697400737461726D"},
    {1320, "audit(1796546691.656:419964): "},
};

const auto& event_of(const benchmark::State& state) {
  return state.range(0) == 0 ? kExecEvent : kGetppidEvent;
}

void BM_RawLine(benchmark::State& state) {
  const auto& event = event_of(state);
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& [type, payload] : event)
      aurelay::auditlog::append_raw_line(out, "", type, payload);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(event.size()));
}
BENCHMARK(BM_RawLine)->Arg(0)->Arg(1);

void BM_EnrichedLine(benchmark::State& state) {
  const auto& event = event_of(state);
  Enricher enricher;
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& [type, payload] : event) {
      const std::size_t start = out.size();
      aurelay::auditlog::append_raw_line(out, "", type, payload);
      enricher.enrich(out, start, type);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(event.size()));
  state.counters["auparse_per_record"] =
      benchmark::Counter(static_cast<double>(enricher.auparse_lookups()) /
                         static_cast<double>(state.iterations() * event.size()));
}
BENCHMARK(BM_EnrichedLine)->Arg(0)->Arg(1);

// The whole write path: batches of 128 events into a file (flush = none), as the correlator
// thread writes them.
void BM_AuditLogWrite(benchmark::State& state) {
  const auto& event = event_of(state);
  RecordBatch batch;
  for (int i = 0; i < 128; ++i) {
    for (const auto& [type, payload] : event) batch.append(type, payload);
  }
  char dir_template[] = "/var/tmp/aurelay-bench-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  AuditLogConfig config;
  config.write_logs = true;
  config.log_file = dir + "/audit.log";
  config.flush = aurelay::auditlog::FlushMode::none;
  config.max_log_file_mib = 64;
  config.num_logs = 2;
  config.space_left = "1";
  config.admin_space_left = "0";
  auto log = AuditLog::open(config, nullptr);
  if (!log) {
    state.SkipWithError(log.error().c_str());
    return;
  }
  for (auto _ : state) (*log)->write(batch);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
  log->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AuditLogWrite)->Arg(0)->Arg(1);

}  // namespace
