#!/usr/bin/env bash
# Builds and runs every test: unit tests under ASan+UBSan, the rings and the pipeline under
# TSan, the parser and encoder fuzzers for a bounded time, clang-tidy (.clang-tidy) with zero
# findings, then the whole suite (kernel tests included when
# running as root) on the release build. The last thing printed is ctest's summary.
# The tests run under tools/hermetic.sh: default system paths (/etc/aurelay, /var/lib/aurelay,
# /var/log/aurelay, /run/aurelay, /var/log/audit) are hidden behind empty mounts, and a test that
# writes there fails the run.
# Environment: AURELAY_FUZZ_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
export AURELAY_BUILD_TARGETS=all  # tools/build.sh: the tests and benchmarks too
jobs=$(nproc)
fuzz_seconds=${AURELAY_FUZZ_SECONDS:-60}

section() { printf '\n===== %s =====\n' "$*"; }

section "Formatting (clang-format)"
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror
echo "all C++ files are clang-formatted"

section "ASan+UBSan build and unit tests"
tools/build.sh build-asan -DAURELAY_SANITIZE=address,undefined -DAURELAY_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tools/hermetic.sh \
  ctest --test-dir build-asan -j "$jobs" -LE 'kernel' --output-on-failure --timeout 600

section "TSan build: rings and pipeline"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAURELAY_SANITIZE=thread \
  -DAURELAY_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target base_tests collector_tests auditlog_tests
TSAN_OPTIONS=halt_on_error=1 tools/hermetic.sh ctest --test-dir build-tsan -j "$jobs" -L 'base|collector|auditlog' \
  --output-on-failure --timeout 600

section "Fuzzing the record parser and the record-to-document path for ${fuzz_seconds}s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAURELAY_BUILD_FUZZ=ON -DAURELAY_BUILD_BENCH=OFF >/dev/null
tests/fuzz/run.sh build-fuzz "$fuzz_seconds"

# ---- CI package check (owned by the e2e helper: tools/ci_package_check.sh) ----
# Builds the .deb, installs it with apt-get, checks the installed aurelay (--version,
# --check-config, the unit's ExecStart line) and purges it again before the tests below.
section "Package: build, install, check, purge"
if [ "$(id -u)" = 0 ]; then
  tools/ci_package_check.sh build-package
else
  echo "not root: skipping the package install check"
fi
# ---- end of CI package check ----

section "Release build"
tools/build.sh build

section "clang-tidy (.clang-tidy: bugprone, performance, naming; zero warnings)"
# Every C++ file but the fuzz targets (built only by clang with -fsanitize=fuzzer), two at a time.
git ls-files '*.cpp' | grep -v '^tests/fuzz/' |
  xargs -P "$jobs" -n 4 clang-tidy -p build --quiet 2>/dev/null | tee build/clang-tidy.log |
  grep -E '(warning|error):' && { echo "clang-tidy: fix the findings above" >&2; exit 1; }
echo "clang-tidy: no findings"

section "All tests"
[ "$(id -u)" = 0 ] || echo "not root: the kernel tests will skip"
# Kernel tests carry RUN_SERIAL: ctest runs them alone, one at a time.
tools/hermetic.sh ctest --test-dir build -j "$jobs" --output-on-failure --timeout 600
