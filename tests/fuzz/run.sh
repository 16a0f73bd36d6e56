#!/usr/bin/env bash
# Runs the fuzzers for a bounded time each: the record parser (one line per input), the whole
# record-to-document path (several lines per input, every document checked against MozDef's rules)
# and the local audit log's lines (the short enrichment path checked against libauparse).
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

cmake --build "$build_dir" --target fuzz_record_parser fuzz_mozdef_encoder fuzz_audit_log_line -- -j2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/event-seeds" "$build_dir/fuzz-artifacts"

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

# Event seeds: the project's fixtures in pieces of 12 consecutive lines.
if [[ -d $root/tests/fixtures ]]; then
  find "$root/tests/fixtures" -type f -name '*.log' -print0 | sort -z |
    while IFS= read -r -d '' file; do cat "$file"; echo; done |
    split -l 12 - "$work/event-seeds/seed-"
fi

run_fuzzer() {  # name seeds max_len
  local name=$1 seeds=$2 max_len=$3
  mkdir -p "$work/corpus-$name"
  echo "fuzz: $name, $(ls "$seeds" | wc -l) seeds, ${seconds}s"
  set +e
  "$build_dir/$name" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build_dir/fuzz-artifacts/$name-" \
    "$work/corpus-$name" "$seeds"
  local status=$?
  set -e
  if [[ $status -ne 0 ]]; then
    echo "fuzz: $name failed (exit $status); artifacts in $build_dir/fuzz-artifacts/" >&2
    exit "$status"
  fi
  echo "fuzz: $name: no crash in ${seconds}s"
}
run_fuzzer fuzz_record_parser "$work/seeds" 9100
run_fuzzer fuzz_mozdef_encoder "$work/event-seeds" 65536
# Audit log lines: the parser's seeds with their type as the first byte (the payload after msg=).
mkdir -p "$work/log-seeds"
i=0
for seed in "$work"/seeds/*; do
  payload=$(sed -n 's/^\(node=[^ ]* \)\{0,1\}type=\(SYSCALL\|PATH\|CWD\|EXECVE\|BPRM_FCAPS\|PROCTITLE\|SOCKADDR\|CONFIG_CHANGE\) msg=//p' "$seed" | tr -d '\035' | head -c 9000)
  [[ -n $payload ]] || continue
  { printf "\\$(printf %03o $((i % 6)))"; printf '%s' "$payload"; } >"$work/log-seeds/seed-$i"
  i=$((i + 1))
done
# libauparse leaks a string on a record with a malformed time stamp: its own, suppressed.
LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
  run_fuzzer fuzz_audit_log_line "$work/log-seeds" 9100
