// MozDef encoder throughput: documents/s on the corpus events (parsed and assembled once, outside
// the timed loop) when ../shared is present, and on hand-made events always.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "correlate/event.h"
#include "correlate/event_assembler.h"
#include "correlate/record.h"
#include "mozdef/encoder.h"

namespace {

using namespace aurelay;

std::vector<correlate::Event> corpus_events(std::size_t& records) {
  std::vector<correlate::Event> events;
  records = 0;
  std::filesystem::path path =
      std::filesystem::path(AURELAY_SHARED_DIR) / "corpus" / "real-small-netlink.log";
  std::ifstream in(path, std::ios::binary);
  if (!in) return events;
  std::ostringstream text;
  text << in.rdbuf();
  const std::string data = text.str();
  correlate::EventAssembler assembler({}, [&](const correlate::Event& event) {
    events.push_back(event);
    records += event.record_count();
  });
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    correlate::RecordView record;
    if (correlate::parse_log_line(std::string_view(data).substr(start, end - start), record) ==
        correlate::ParseStatus::ok)
      assembler.add(record, correlate::EventAssembler::TimePoint{});
    start = end + 1;
  }
  assembler.flush();
  return events;
}

void run(benchmark::State& state, const std::vector<correlate::Event>& events,
         std::size_t records) {
  mozdef::MozdefEncoder encoder(mozdef::EncoderConfig{"bench-host"});
  DocumentBatch batch;
  std::size_t bytes = 0;
  for (auto _ : state) {
    batch.clear();
    for (const correlate::Event& event : events) encoder.encode(event, batch);
    bytes += batch.byte_size();
    benchmark::DoNotOptimize(batch.data().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * records), benchmark::Counter::kIsRate);
}

void BM_EncodeCorpus(benchmark::State& state) {
  static std::size_t records = 0;
  static const std::vector<correlate::Event> events = corpus_events(records);
  if (events.empty()) {
    state.SkipWithError("shared corpus absent");
    return;
  }
  run(state, events, records);
}
BENCHMARK(BM_EncodeCorpus);

correlate::Event execve_event(std::uint64_t serial) {
  correlate::Event event;
  event.reset(correlate::EventKey{1795305789, 998, serial, {}});
  event.set_completion(correlate::Completion::eoe);
  event.add_record(correlate::kTypeSyscall,
                   "arch=c000003e syscall=59 success=yes exit=0 a0=55d1 a1=55d2 a2=55d3 a3=0 "
                   "items=2 ppid=442 pid=471 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
                   "sgid=0 fsgid=0 tty=pts0 ses=7 comm=\"ls\" exe=\"/usr/bin/ls\" key=\"exec\"");
  event.add_record(correlate::kTypeExecve, "argc=3 a0=\"ls\" a1=\"-l\" a2=\"/tmp/some dir\"");
  event.add_record(correlate::kTypeCwd, "cwd=\"/srv/collector/bench\"");
  event.add_record(correlate::kTypePath,
                   "item=0 name=\"/usr/bin/ls\" inode=247304 dev=fe:00 mode=0100755 ouid=0 "
                   "ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 "
                   "cap_frootid=0");
  event.add_record(correlate::kTypePath,
                   "item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=332383 dev=fe:00 "
                   "mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 "
                   "cap_fe=0 cap_fver=0 cap_frootid=0");
  event.add_record(correlate::kTypeProctitle, "proctitle=6C73002D6C002F746D702F736F6D6520646972");
  return event;
}

void BM_EncodeExecve(benchmark::State& state) {
  std::vector<correlate::Event> events;
  for (std::uint64_t i = 0; i < 256; ++i) events.push_back(execve_event(1000 + i));
  run(state, events, events.size() * 6);
}
BENCHMARK(BM_EncodeExecve);

void BM_EncodeUserLogin(benchmark::State& state) {
  std::vector<correlate::Event> events(256);
  for (std::uint64_t i = 0; i < events.size(); ++i) {
    events[i].reset(correlate::EventKey{1795305793, 654, 6919 + i, {}});
    events[i].set_completion(correlate::Completion::terminal);
    events[i].add_record(1112,
                         "pid=531 uid=0 auid=1001 ses=7 msg='op=login acct=\"auditcorpus\" "
                         "exe=\"/usr/bin/login\" hostname=? addr=? terminal=/dev/pts/0 "
                         "res=success'");
  }
  run(state, events, events.size());
}
BENCHMARK(BM_EncodeUserLogin);

// The event of a syscall storm (bench/live_storm.sh's getppid storm): SYSCALL, PROCTITLE, EOE.
void BM_EncodeSyscallStorm(benchmark::State& state) {
  std::vector<correlate::Event> events(256);
  for (std::uint64_t i = 0; i < events.size(); ++i) {
    events[i].reset(correlate::EventKey{
        1796188728, static_cast<std::uint32_t>(362 + i / 100), 54478434 + i, {}});
    events[i].set_completion(correlate::Completion::eoe);
    events[i].add_record(correlate::kTypeSyscall,
                         "arch=c000003e syscall=110 success=yes exit=1844 a0=0 a1=0 a2=0 a3=0 "
                         "items=0 ppid=1844 pid=1845 auid=4294967295 uid=0 gid=0 euid=0 suid=0 "
                         "fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 "
                         "comm=\"audit_storm\" exe=\"/usr/local/bin/audit_storm\" key=\"storm\"");
    events[i].add_record(correlate::kTypeProctitle,
                         "proctitle=2F7573722F6C6F63616C2F62696E2F61756469745F73746F726D00676574"
                         "7070696400310031");
    events[i].add_record(correlate::kTypeEoe, "");
  }
  run(state, events, events.size() * 3);
}
BENCHMARK(BM_EncodeSyscallStorm);

}  // namespace
