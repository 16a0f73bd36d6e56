#!/usr/bin/env bash
# Replay throughput: the same large auditd log (the corpus repeated with shifted serials, at
# least 300k records) through aurelay and through laurel (Debian package) in the same run, each
# pinned to one core, runs alternating. Prints the median run's records/s, CPU seconds and peak
# RSS of each, and the ratio.
# Usage: bench/replay_vs_laurel.sh [build-dir] [min-records] [runs] [log]
#   log: an auditd log to repeat; default ../shared/corpus/real-small.log where present, else the
#   project's own kernel capture (tests/fixtures/kernel-capture-mozdef.log).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
min_records=${2:-300000}
runs=${3:-3}
corpus=${4:-../shared/corpus/real-small.log}
[ -f "$corpus" ] || corpus=tests/fixtures/kernel-capture-mozdef.log
[ -f "$corpus" ] || { echo "needs an auditd log to replay" >&2; exit 1; }
command -v laurel >/dev/null || { echo "laurel is not installed (tools/setup.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/aurelay-replay-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 bench/make_replay_input.py "$corpus" "$work/input.log" "$min_records" >/dev/null
records=$(wc -l <"$work/input.log")
# shellcheck source=bench/private_config.sh
. bench/private_config.sh
write_private_config "$work/aurelay.conf" "$work"

mkdir -p "$work/laurel"
cat >"$work/laurel.toml" <<TOML
directory = "$work/laurel"
user = "root"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 100000000000
generations = 1
[transform]
execve-argv = [ "array" ]
[translate]
universal = false
user-db = false
[enrich]
pid = false
container = false
script = false
TOML

# Runs a command pinned to CPU 0; prints "wall_seconds cpu_seconds max_rss_kib".
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" taskset -c 0 "$@" >/dev/null 2>"$work/stderr" \
    || { cat "$work/stderr" >&2; return 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/time"
}

median() {  # the median (by wall time) of the runs' lines in file $1
  sort -n "$1" | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'
}

for _ in $(seq "$runs"); do  # alternate, so both see the same machine
  measure "$build/aurelay" --config "$work/aurelay.conf" --input "$work/input.log" --output "$work/out.json" --log_level warn \
    >>"$work/aurelay.runs"
  rm -f "$work/out.json"
  measure sh -c "laurel --config '$work/laurel.toml' < '$work/input.log'" >>"$work/laurel.runs"
  rm -f "$work/laurel/"*
done
aurelay_line=$(median "$work/aurelay.runs")
laurel_line=$(median "$work/laurel.runs")

printf '%-8s %10s %12s %10s %12s\n' tool wall_s records/s cpu_s peak_rss_MiB
for tool in aurelay laurel; do
  line=${tool}_line
  read -r wall cpu rss <<<"${!line}"
  printf '%-8s %10.2f %12.0f %10.2f %12.1f\n' "$tool" "$wall" "$(echo "$records / $wall" | bc -l)" \
    "$cpu" "$(echo "$rss / 1024" | bc -l)"
done
read -r aw _ _ <<<"$aurelay_line"
read -r lw _ _ <<<"$laurel_line"
printf 'input: %d records from %s, median of %d runs; aurelay/laurel records/s ratio: %.2f\n' "$records" "$(basename "$corpus")" "$runs" "$(echo "$lw / $aw" | bc -l)"
