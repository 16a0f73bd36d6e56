// Paced getppid() generator for bench/latency_bench.sh.
//   latency_gen RATE SECONDS START_DELAY_MS
// Sleeps START_DELAY_MS (the script adds an audit rule for this pid meanwhile), then calls
// getppid() RATE times a second for SECONDS, spread over 1 ms ticks (a steady load, not bursts).
// Prints "calls=N seconds=S".
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

std::int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_until_ns(std::int64_t when) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(when / 1000000000);
  ts.tv_nsec = static_cast<long>(when % 1000000000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s RATE SECONDS START_DELAY_MS\n", argv[0]);
    return 2;
  }
  const double rate = std::atof(argv[1]);
  const double seconds = std::atof(argv[2]);
  const std::int64_t delay_ms = std::atoll(argv[3]);
  if (rate <= 0 || seconds <= 0 || delay_ms < 0) {
    std::fprintf(stderr, "RATE and SECONDS must be positive, START_DELAY_MS not negative\n");
    return 2;
  }
  sleep_until_ns(monotonic_ns() + delay_ms * 1000000);
  constexpr std::int64_t kTickNs = 1000000;
  const std::int64_t start = monotonic_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
  std::uint64_t calls = 0;
  for (std::int64_t tick = start; tick < end; tick += kTickNs) {
    sleep_until_ns(tick);
    // Catch up to where the rate says we should be (a late tick does not lose calls).
    const auto due = static_cast<std::uint64_t>(rate * static_cast<double>(tick - start) / 1e9);
    while (calls < due) {
      syscall(SYS_getppid);  // never cached by libc
      ++calls;
    }
  }
  std::printf("calls=%llu seconds=%.3f\n", static_cast<unsigned long long>(calls),
              static_cast<double>(monotonic_ns() - start) / 1e9);
  return 0;
}
