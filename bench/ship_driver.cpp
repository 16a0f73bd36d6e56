// Pushes N synthetic MozDef documents through HttpSink to a URL and prints documents/s and the
// CPU seconds this process used. Driven by bench/ship_bench.sh (which starts a server that
// discards bodies); usable alone: ship_driver <url> [documents] [format] [inflight] [batch_events]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/clocks.h"
#include "output/http/http_sink.h"

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A document shaped like an execve event from the encoder (~600 bytes).
void append_document(aurelay::DocumentBatch& batch, std::uint64_t n, std::uint64_t now) {
  std::string& out = batch.buffer();
  out += R"({"category":"execve","processid":"4242","processname":"bash","severity":"INFO",)";
  out += R"("summary":"Execve: /usr/bin/curl -s https://example.org/api/v1/items?page=)";
  out += std::to_string(n % 1000);
  out += R"(","hostname":"bench-host.example.org","timestamp":"2024-05-01T12:00:00.000+00:00",)";
  out += R"("tags":["aurelay","audit"],"details":{"eventid":"bench-)";
  out += std::to_string(n);
  out += R"(","auditserial":")";
  out += std::to_string(n);
  out +=
      R"(","originaluser":"alice","originaluid":"1000","user":"alice","uid":"1000","gid":"1000",)";
  out += R"("euid":"1000","processname":"curl","process":"/usr/bin/curl","parentprocess":"bash",)";
  out += R"("ppid":"4241","pid":"4242","cwd":"/home/alice","auditkey":"exec","tty":"pts0",)";
  out += R"("session":"3","command":"curl -s https://example.org/api/v1/items"}})";
  batch.end_document(now);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s <url> [documents] [array|ndjson|single] "
                 "[inflight] [batch_events]\n",
                 argv[0]);
    return 2;
  }
  aurelay::output::HttpSinkConfig config;
  config.url = argv[1];
  std::uint64_t documents = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  if (argc > 3) {
    auto format = aurelay::output::parse_bulk_format(argv[3]);
    if (!format) {
      std::fprintf(stderr, "unknown format %s\n", argv[3]);
      return 2;
    }
    config.bulk_format = *format;
  }
  if (argc > 4) config.http_max_inflight = static_cast<unsigned>(std::atoi(argv[4]));
  if (argc > 5) config.delivery.batch_max_events = static_cast<std::size_t>(std::atoi(argv[5]));
  config.delivery.memory_max_documents = 1u << 30;  // no spool: measure the network path
  aurelay::output::HttpSink sink(config);
  if (aurelay::Status opened = sink.open(); !opened) {
    std::fprintf(stderr, "%s\n", opened.error().c_str());
    return 1;
  }
  aurelay::DocumentBatch batch;
  const std::uint64_t per_batch = 256;  // what the correlator hands over at a time
  double cpu_start = cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  std::uint64_t now_ms = aurelay::wall_clock_ms();
  std::uint64_t produced = 0;
  while (produced < documents) {
    // Keep a bounded amount in memory, like a ring in front of the shipper would.
    while (sink.queued_documents() > 20000) sink.poll(1);
    batch.clear();
    for (std::uint64_t i = 0; i < per_batch && produced < documents; ++i) {
      append_document(batch, produced++, now_ms);
    }
    sink.write(batch);
    sink.poll(0);
  }
  bool flushed = sink.flush(120000);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = cpu_seconds() - cpu_start;
  const aurelay::output::OutputStats& counters = sink.stats();
  const std::uint64_t delivered = aurelay::value_of(counters.documents_delivered);
  std::printf(
      "format=%s inflight=%u batch_events=%zu documents=%llu delivered=%llu requests=%llu "
      "retried=%llu\n",
      argc > 3 ? argv[3] : "array", config.http_max_inflight, config.delivery.batch_max_events,
      static_cast<unsigned long long>(documents), static_cast<unsigned long long>(delivered),
      static_cast<unsigned long long>(aurelay::value_of(counters.output_requests)),
      static_cast<unsigned long long>(aurelay::value_of(counters.batches_retried)));
  std::printf("wall_s=%.3f cpu_s=%.3f docs_per_s=%.0f docs_per_cpu_s=%.0f cores=%.2f\n", seconds,
              cpu, double(delivered) / seconds, double(delivered) / cpu, cpu / seconds);
  if (!flushed) std::fprintf(stderr, "not all delivered: %s\n", sink.last_error().c_str());
  return flushed && delivered == documents ? 0 : 1;
}
