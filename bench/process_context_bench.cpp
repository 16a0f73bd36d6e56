// Process context micro-benchmarks (the reader's /proc lookups, see correlate/process_context.h),
// per SYSCALL record, through the real /proc:
//  - ExitedChild: an exec storm's usual case: the process is gone (kill(pid, 0) says so), its
//    parent (this process) is known: the context is inherited;
//  - LiveChildExec: the process is alive and its record an execve's: /proc/PID read every time,
//    its parent checked by its stat;
//  - SameProcess: a getppid storm: one long-lived process, every record a table hit;
//  - Annotate: a batch of an exec event's 8 records, only the SYSCALL looked up.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "base/clocks.h"
#include "correlate/process_context.h"
#include "correlate/record.h"
#include "correlate/record_batch.h"

namespace {

using aurelay::correlate::ProcessContext;
using aurelay::correlate::ProcessContextConfig;
using aurelay::correlate::ProcessContexts;
using aurelay::correlate::RecordBatch;

// A pid no process holds (from the top of the default range down).
std::uint32_t free_pid() {
  for (std::uint32_t pid = 4000000; pid > 1000; --pid)
    if (::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0) return pid;
  return 0;
}

void BM_ExitedChild(benchmark::State& state) {
  ProcessContexts contexts(ProcessContextConfig{});
  const auto parent = static_cast<std::uint32_t>(::getpid());
  const std::uint32_t gone = free_pid();
  ProcessContext context;
  std::uint32_t offset = 0;
  for (auto _ : state) {
    const std::uint64_t now = aurelay::wall_clock_ms();
    // A new gone pid each time, as a storm's children are.
    benchmark::DoNotOptimize(
        contexts.lookup(gone - (offset++ % 100000), parent, now, now, context));
  }
  state.counters["inherited"] = static_cast<double>(contexts.stats().process_context_inherited);
}
BENCHMARK(BM_ExitedChild);

void BM_LiveChildExec(benchmark::State& state) {
  ProcessContexts contexts(ProcessContextConfig{});
  const auto pid = static_cast<std::uint32_t>(::getpid());
  const auto ppid = static_cast<std::uint32_t>(::getppid());
  ProcessContext context;
  for (auto _ : state) {
    const std::uint64_t now = aurelay::wall_clock_ms();
    benchmark::DoNotOptimize(contexts.lookup(pid, ppid, now, now, context, /*exec=*/true));
  }
  state.counters["proc_reads"] = static_cast<double>(contexts.stats().process_context_proc_reads);
}
BENCHMARK(BM_LiveChildExec);

void BM_SameProcess(benchmark::State& state) {
  ProcessContexts contexts(ProcessContextConfig{});
  const auto pid = static_cast<std::uint32_t>(::getpid());
  const auto ppid = static_cast<std::uint32_t>(::getppid());
  ProcessContext context;
  const std::uint64_t now = aurelay::wall_clock_ms();
  for (auto _ : state) benchmark::DoNotOptimize(contexts.lookup(pid, ppid, now, now, context));
}
BENCHMARK(BM_SameProcess);

void BM_AnnotateExecEvent(benchmark::State& state) {
  ProcessContexts contexts(ProcessContextConfig{});
  const std::uint32_t gone = free_pid();
  const std::uint64_t now = aurelay::wall_clock_ms();
  const std::string header = "audit(" + std::to_string(now / 1000) + "." +
                             std::to_string(now % 1000 + 1000).substr(1) + ":42): ";
  RecordBatch batch;
  std::uint32_t offset = 0;
  for (auto _ : state) {
    batch.clear();
    const std::string syscall =
        header +
        "arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=8 "
        "items=2 ppid=" +
        std::to_string(::getpid()) + " pid=" + std::to_string(gone - (offset++ % 100000)) +
        " auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) "
        "ses=4294967295 comm=\"true\" exe=\"/usr/bin/true\" key=\"exec\"";
    batch.append(aurelay::correlate::kTypeSyscall, syscall);
    batch.append(1321, header + "fver=0 fp=0 fi=0 fe=0 old_pp=0 old_pi=0 old_pe=0 old_pa=0");
    batch.append(aurelay::correlate::kTypeExecve, header + "argc=1 a0=\"true\"");
    batch.append(aurelay::correlate::kTypeCwd, header + "cwd=\"/\"");
    batch.append(aurelay::correlate::kTypePath, header + "item=0 name=\"/usr/bin/true\"");
    batch.append(aurelay::correlate::kTypePath, header + "item=1 name=\"/lib64/ld.so\"");
    batch.append(aurelay::correlate::kTypeProctitle, header + "proctitle=74727565");
    batch.append(aurelay::correlate::kTypeEoe, header);
    contexts.annotate(batch, aurelay::wall_clock_ms());
    benchmark::DoNotOptimize(batch.context(0));
  }
}
BENCHMARK(BM_AnnotateExecEvent);

}  // namespace
