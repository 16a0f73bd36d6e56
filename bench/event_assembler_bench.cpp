// Event assembler throughput over the shared netlink corpus: parser + assembler, and assembler
// alone over pre-parsed records. Each pass shifts the serials so every pass is new events (the
// assembler would otherwise see the ids as late records). Reports records/s and heap
// allocations per record in steady state (expected 0).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "correlate/event_assembler.h"
#include "correlate/record.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace aurelay::correlate {
namespace {

struct Corpus {
  std::string text;
  std::vector<std::string_view> lines;
  std::vector<RecordView> records;
  std::uint64_t serial_span = 0;
};

const Corpus* load_corpus() {
  static const Corpus* corpus = [] {
    auto* c = new Corpus;
    std::filesystem::path path =
        std::filesystem::path(AURELAY_SHARED_DIR) / "corpus" / "real-small-netlink.log";
    std::ifstream in(path, std::ios::binary);
    if (!in) return static_cast<Corpus*>(nullptr);
    std::ostringstream out;
    out << in.rdbuf();
    c->text = out.str();
    std::uint64_t min_serial = ~0ULL, max_serial = 0;
    std::size_t start = 0;
    while (start < c->text.size()) {
      std::size_t end = c->text.find('\n', start);
      if (end == std::string::npos) end = c->text.size();
      std::string_view line(c->text.data() + start, end - start);
      start = end + 1;
      RecordView view;
      if (line.empty() || parse_log_line(line, view) != ParseStatus::ok) continue;
      c->lines.push_back(line);
      c->records.push_back(view);
      min_serial = std::min(min_serial, view.key.serial);
      max_serial = std::max(max_serial, view.key.serial);
    }
    c->serial_span = max_serial - min_serial + 1;
    return c;
  }();
  return corpus;
}

// Like a reader batch; the fake clock advances so one pass spans more than eoe_timeout and the
// lone records without EOE (SECCOMP, ANOM_ABEND) time out, as they do live.
constexpr std::size_t kExpireEvery = 256;
constexpr std::chrono::milliseconds kBatchTime{100};
constexpr std::uint64_t kWarmupPasses = 3;  // after these the pool and buffers have grown

// Feeds `records` to one assembler once per iteration, serials shifted each pass so every pass
// makes new events; `to_view` turns an element into a RecordView (parsing it or not).
template <typename Records, typename ToView>
void assemble_passes(benchmark::State& state, const Corpus& corpus, const Records& records,
                     ToView to_view) {
  std::uint64_t events = 0;
  EventAssembler assembler({}, [&](const Event& e) { events += e.record_count() > 0; });
  EventAssembler::TimePoint now{};
  std::uint64_t pass = 0;
  std::uint64_t allocations_before = 0;
  for (auto _ : state) {
    if (pass == kWarmupPasses) allocations_before = g_allocations.load();
    const std::uint64_t shift = pass * corpus.serial_span;
    std::size_t n = 0;
    for (const auto& record : records) {
      RecordView view = to_view(record);
      view.key.serial += shift;
      assembler.add(view, now);
      if (++n % kExpireEvery == 0) {
        now += kBatchTime;
        assembler.expire(now);
      }
    }
    ++pass;
  }
  assembler.flush();
  state.SetItemsProcessed(static_cast<std::int64_t>(records.size() * state.iterations()));
  state.counters["events"] = static_cast<double>(events);
  if (pass > kWarmupPasses)
    state.counters["allocs_per_record"] =
        static_cast<double>(g_allocations.load() - allocations_before) /
        static_cast<double>(records.size() * (pass - kWarmupPasses));
}

void BM_ParseAndAssemble(benchmark::State& state) {
  const Corpus* corpus = load_corpus();
  if (corpus == nullptr) {
    state.SkipWithError("shared corpus absent");
    return;
  }
  assemble_passes(state, *corpus, corpus->lines, [](std::string_view line) {
    RecordView view;
    parse_log_line(line, view);
    return view;
  });
}
BENCHMARK(BM_ParseAndAssemble)->Unit(benchmark::kMillisecond);

void BM_AssembleOnly(benchmark::State& state) {
  const Corpus* corpus = load_corpus();
  if (corpus == nullptr) {
    state.SkipWithError("shared corpus absent");
    return;
  }
  assemble_passes(state, *corpus, corpus->records, [](const RecordView& view) { return view; });
}
BENCHMARK(BM_AssembleOnly)->Unit(benchmark::kMillisecond);

// The cost of expire() when nothing is due, with a full table open.
void BM_ExpireNothingDue(benchmark::State& state) {
  EventAssembler assembler({std::chrono::milliseconds(2000), 4096, 4096}, [](const Event&) {});
  EventAssembler::TimePoint now{};
  for (std::uint64_t s = 0; s < 4000; ++s) {
    RecordView view;
    view.type = kTypeSyscall;
    view.key = EventKey{1700000000, 0, s, {}};
    view.body = "arch=c000003e syscall=1";
    assembler.add(view, now);
  }
  for (auto _ : state) {
    assembler.expire(now + std::chrono::milliseconds(1000));
    benchmark::DoNotOptimize(assembler.in_flight());
  }
}
BENCHMARK(BM_ExpireNothingDue);

}  // namespace
}  // namespace aurelay::correlate
