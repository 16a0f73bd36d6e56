// Process table micro-benchmarks: the per-event cost of observe() plus name_of(ppid) at steady
// state (every parent known), under churn (a fork storm: every event a new pid, the table full and
// evicting), and the cost of one /proc fallback read (a miss that goes to the real /proc).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "correlate/process_table.h"

namespace {

using aurelay::correlate::ProcessTable;
using aurelay::correlate::ProcessTableConfig;

constexpr std::size_t kCapacity = 16384;

ProcessTableConfig config(std::size_t capacity, bool proc_fallback = false) {
  ProcessTableConfig config;
  config.capacity = capacity;
  config.proc_fallback = proc_fallback;
  return config;
}

// A working set of `state.range(0)` processes (below the capacity): each event observes one and
// looks up its parent, which the table holds.
void BM_ProcessTableSteadyHits(benchmark::State& state) {
  const auto processes = static_cast<std::uint32_t>(state.range(0));
  ProcessTable table(config(kCapacity));
  const std::uint32_t first_pid = 1000;
  for (std::uint32_t i = 0; i < processes; ++i) {
    table.observe(first_pid + i, first_pid + i / 2, "bash", "/usr/bin/bash");
  }
  std::uint32_t i = 0;
  for (auto _ : state) {
    const std::uint32_t pid = first_pid + i;
    const std::uint32_t ppid = first_pid + i / 2;
    table.observe(pid, ppid, "bash", "/usr/bin/bash");
    benchmark::DoNotOptimize(table.name_of(ppid));
    if (++i == processes) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] =
      static_cast<double>(table.stats().parent_known.load()) /
      static_cast<double>(table.stats().parent_known.load() + table.stats().parent_unknown.load());
}
BENCHMARK(BM_ProcessTableSteadyHits)->Arg(64)->Arg(4096)->Arg(kCapacity);

// A fork storm: 16 long-lived shells start short-lived children; every event is a new pid (an
// insert, and an eviction once the table is full), its parent a shell (a hit), and one event in
// eight asks for a parent that has never been seen (a miss, fallback off).
void BM_ProcessTableChurn(benchmark::State& state) {
  ProcessTable table(config(kCapacity));
  const std::uint32_t first_shell = 100;
  std::uint32_t next_pid = 10000;
  std::uint64_t event = 0;
  for (auto _ : state) {
    const std::uint32_t shell = first_shell + static_cast<std::uint32_t>(event % 16);
    table.observe(shell, 1, "bash", "/usr/bin/bash");
    const std::uint32_t pid = next_pid++;
    if (next_pid == 4000000) next_pid = 10000;
    table.observe(pid, shell, "ssh", "/usr/bin/ssh");
    const std::uint32_t ppid =
        (event % 8 == 7) ? 5000000 + static_cast<std::uint32_t>(event) : shell;
    benchmark::DoNotOptimize(table.name_of(ppid));
    ++event;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["evictions"] = static_cast<double>(table.stats().process_table_evictions.load());
  state.counters["hit_ratio"] =
      static_cast<double>(table.stats().parent_known.load()) /
      static_cast<double>(table.stats().parent_known.load() + table.stats().parent_unknown.load());
}
BENCHMARK(BM_ProcessTableChurn);

// What a miss costs live: a table of one entry alternating between two live pids (this process
// and its parent), so every lookup reads /proc/<pid>/comm.
void BM_ProcessTableProcRead(benchmark::State& state) {
  ProcessTable table(config(1, /*proc_fallback=*/true));
  const std::uint32_t pids[2] = {static_cast<std::uint32_t>(getpid()),
                                 static_cast<std::uint32_t>(getppid())};
  std::uint32_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(table.name_of(pids[i++ & 1]));
  state.SetItemsProcessed(state.iterations());
  state.counters["proc_failures"] = static_cast<double>(table.proc_failures());
}
BENCHMARK(BM_ProcessTableProcRead);

// A failed read: a pid that does not exist (a parent that already exited).
void BM_ProcessTableProcReadMissing(benchmark::State& state) {
  ProcessTable table(config(1, /*proc_fallback=*/true));
  for (auto _ : state) benchmark::DoNotOptimize(table.name_of(4194304 + 1));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProcessTableProcReadMissing);

}  // namespace
