#!/usr/bin/env bash
# Builds the Debian package: a Release build without tests or benchmarks in build-package/, then
# cpack. Prints the path of the .deb. Usage: tools/package.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-package}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DAURELAY_BUILD_TESTS=OFF -DAURELAY_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" -j"$(nproc)" aurelay
(cd "$build" && cpack -G DEB >/dev/null)
deb="$(ls -t "$build"/aurelay_*.deb | head -n1)"
dpkg-deb --info "$deb" >/dev/null
echo "$deb"
