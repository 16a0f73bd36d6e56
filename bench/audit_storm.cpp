// Storm generators for bench/live_storm.sh.
//   audit_storm exec SECONDS WORKERS [RATE]  fork+exec /bin/true in a loop on WORKERS processes;
//                                        with RATE, paced to RATE execs a second in all
//   audit_storm getppid SECONDS WORKERS  getppid() in a tight loop on WORKERS processes
// Prints "operations=N seconds=S cpu_s=C switches=V+I" (the sum over the workers: their CPU
// time, voluntary and involuntary context switches).
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace {

double now_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// `interval`: seconds between two execs of this worker (0: as fast as it goes).
std::uint64_t run_exec(double deadline, double interval) {
  std::uint64_t count = 0;
  char* args[] = {const_cast<char*>("/bin/true"), nullptr};
  double next = now_seconds();
  while (now_seconds() < deadline) {
    if (interval > 0) {
      next += interval;
      const double wait = next - now_seconds();
      if (wait > 0) {
        timespec pause{
            static_cast<time_t>(wait),
            static_cast<long>((wait - static_cast<double>(static_cast<time_t>(wait))) * 1e9)};
        nanosleep(&pause, nullptr);
      }
    }
    pid_t pid = fork();
    if (pid == 0) {
      execve("/bin/true", args, environ);
      _exit(127);
    }
    if (pid < 0) continue;
    waitpid(pid, nullptr, 0);
    ++count;
  }
  return count;
}

std::uint64_t run_getppid(double deadline) {
  std::uint64_t count = 0;
  for (;;) {
    for (int i = 0; i < 1000; ++i) syscall(SYS_getppid);  // never cached by libc
    count += 1000;
    if (now_seconds() >= deadline) return count;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if ((argc != 4 && argc != 5) ||
      (std::strcmp(argv[1], "exec") != 0 && std::strcmp(argv[1], "getppid") != 0)) {
    std::fprintf(stderr, "usage: %s exec|getppid SECONDS WORKERS [RATE]\n", argv[0]);
    return 2;
  }
  const bool exec = std::strcmp(argv[1], "exec") == 0;
  const double seconds = std::atof(argv[2]);
  const int workers = std::atoi(argv[3]);
  const double rate = argc == 5 ? std::atof(argv[4]) : 0;
  const double interval = rate > 0 ? workers / rate : 0;
  auto* totals = static_cast<std::atomic<std::uint64_t>*>(
      mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (totals) std::atomic<std::uint64_t>(0);
  const double start = now_seconds();
  const double deadline = start + seconds;
  for (int w = 0; w < workers; ++w) {
    if (fork() == 0) {
      std::uint64_t count = exec ? run_exec(deadline, interval) : run_getppid(deadline);
      totals->fetch_add(count);
      _exit(0);
    }
  }
  while (wait(nullptr) > 0) {
  }
  rusage usage{};  // of the workers and what they waited for (the exec storm's programs)
  getrusage(RUSAGE_CHILDREN, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("operations=%llu seconds=%.3f cpu_s=%.2f switches=%ld+%ld\n",
              static_cast<unsigned long long>(totals->load()), now_seconds() - start, cpu,
              usage.ru_nvcsw, usage.ru_nivcsw);
  return 0;
}
