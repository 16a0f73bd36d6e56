#!/usr/bin/env bash
# Regenerates collector/aurelay.conf and collector/aurelay.8 from the option table
# (collector/config/config.cpp) and docs/mozdef-fields.md from mozdef/details.h (the keys) and
# mozdef/field_map.h (the record fields that feed them: the `from` column). Unit tests
# (ConfigRender.ShippedFilesAreUpToDate, FieldReference.DocsFileIsUpToDate) fail when they are stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-docgen}"
[ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja >/dev/null
ninja -C "$build" aurelay_docgen >/dev/null
"$build/aurelay_docgen" config >"$root/collector/aurelay.conf"
"$build/aurelay_docgen" man >"$root/collector/aurelay.8"
mkdir -p "$root/docs"
"$build/aurelay_docgen" fields >"$root/docs/mozdef-fields.md"
echo "generate_docs.sh: wrote collector/aurelay.conf, collector/aurelay.8 and docs/mozdef-fields.md"
