#!/usr/bin/env bash
# Configures and builds the aurelay executable into build/ (build/aurelay): only what the main
# job needs. tools/test.sh builds the tests and benchmarks (AURELAY_BUILD_TARGETS=all).
# Usage: tools/build.sh [build-dir] [extra cmake arguments...]
# Everything it prints goes to stderr: stdout stays for the documents of a command that follows.
set -euo pipefail
exec 1>&2
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
targets=${AURELAY_BUILD_TARGETS:-aurelay}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" --target $targets
