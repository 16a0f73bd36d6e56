#!/usr/bin/env bash
# Runs the record parser fuzzer for a bounded time.
#   tests/fuzz/run.sh <build-dir> <seconds>
# <build-dir> is a clang build configured with -DAURELAY_BUILD_FUZZ=ON, e.g.
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DAURELAY_BUILD_FUZZ=ON
# The seed corpus (lines of tests/fixtures and, when present, ../shared/corpus) goes to a temp
# dir; crash artifacts are kept in <build-dir>/fuzz-artifacts/. Exits non-zero on a crash.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <build-dir> <seconds>" >&2
  exit 2
fi
build_dir=$(realpath "$1")
seconds=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
shared="${AURELAY_SHARED_DIR:-$root/../shared}"

cmake --build "$build_dir" --target fuzz_record_parser -- -j2
fuzzer="$build_dir/fuzz_record_parser"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$build_dir/fuzz-artifacts"

# Seeds: every line of the project's parser fixtures, plus a sample of the shared corpus
# (every 50th line of the small logs and all lines of external/), a few hundred in all.
n=0
add_lines() {
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s' "$line" >"$work/seeds/seed-$n"
    n=$((n + 1))
  done
}
if [[ -d $root/tests/fixtures ]]; then
  add_lines < <(find "$root/tests/fixtures" -type f -name '*.log' -print0 | sort -z |
    while IFS= read -r -d '' file; do cat "$file"; echo; done)
fi
if [[ -d $shared/corpus ]]; then
  for file in "$shared"/corpus/real-small*.log; do
    [[ -f $file ]] && add_lines < <(awk 'NR % 50 == 1' "$file")
  done
  if [[ -d $shared/corpus/external ]]; then
    add_lines < <(find "$shared/corpus/external" -type f -print0 | sort -z |
      while IFS= read -r -d '' file; do cat "$file"; echo; done)
  fi
fi
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds, ${seconds}s"

mkdir -p "$work/corpus"
set +e
"$fuzzer" -max_total_time="$seconds" -max_len=9100 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build_dir/fuzz-artifacts/" \
  "$work/corpus" "$work/seeds"
status=$?
set -e
if [[ $status -ne 0 ]]; then
  echo "fuzz: fuzz_record_parser failed (exit $status); artifacts in $build_dir/fuzz-artifacts/" >&2
  exit "$status"
fi
echo "fuzz: no crash in ${seconds}s"
