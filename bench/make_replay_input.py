#!/usr/bin/env python3
"""Builds a large replay input from a corpus log: the log repeated with serials (and seconds)
shifted so every copy's events stay distinct. Usage: make_replay_input.py IN OUT MIN_RECORDS"""
import re
import sys

header = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")


def main() -> int:
    source, target, min_records = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(source, "rb") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    serials = [int(m.group(3)) for m in map(header.search, lines) if m]
    seconds = [int(m.group(1)) for m in map(header.search, lines) if m]
    serial_span = max(serials) - min(serials) + 1
    second_span = max(seconds) - min(seconds) + 1
    written = 0
    copy = 0
    with open(target, "wb") as out:
        while written < min_records:
            def shift(m: re.Match) -> bytes:
                sec = int(m.group(1)) + copy * second_span
                serial = int(m.group(3)) + copy * serial_span
                return b"msg=audit(%d.%s:%d)" % (sec, m.group(2), serial)
            for line in lines:
                out.write(header.sub(shift, line, count=1) + b"\n")
            written += len(lines)
            copy += 1
    print(f"{target}: {written} records in {copy} copies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
