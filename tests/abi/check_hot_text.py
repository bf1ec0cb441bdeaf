#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The hot text of the built library fits in one 4 KiB page, reported as TAP.

usage: check_hot_text.py LINKER_MAP LIBFDKIT

The functions marked FDK_HOT (lib/core/hot.h) are what every open, stat and close runs
through; the compiler puts them in .text.hot sections and the linker gathers those, in
link order, after the page-aligned core/hot.cpp. The linker's map says where each input
.text.hot section landed: all of them together must lie within the page the first one
starts, or an open or a stat touches one more page of code after each system call. A
function grown or added with FDK_HOT beyond that page fails here; the diagnostic lists
what the hot text holds, largest first.

A third test feeds the checker a map whose hot text crosses a page, which it must refuse.
"""
import re
import subprocess
import sys

PAGE = 4096

# GNU ld: " .text.hot      0x0000000000023000      0x5c lib/libfdkit.so.1.0.0.p/x.cpp.o",
# with the address on a line of its own after a section name too long for its column.
SECTION = re.compile(r"^ (\.text\.hot(?:\.\S+)?)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+))?\s*$")
CONTINUATION = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)\s*$")


def hot_sections(map_text):
    """(address, size, object) of every non-empty input .text.hot section."""
    found, pending = [], False
    for line in map_text.splitlines():
        if pending:
            pending = False
            m = CONTINUATION.match(line)
            if m:
                found.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
            continue
        m = SECTION.match(line)
        if not m:
            continue
        if m.group(2) is None:
            pending = True
        else:
            found.append((int(m.group(2), 16), int(m.group(3), 16), m.group(4)))
    return [s for s in found if s[1] > 0]


def span_problem(sections):
    """None when the sections lie in one page, else why not."""
    if not sections:
        return "no .text.hot input section in the map (FDK_HOT no longer reaches the linker?)"
    start = min(a for a, _, _ in sections)
    end = max(a + n for a, n, _ in sections)
    page = start - start % PAGE
    if end - page <= PAGE:
        return None
    return "hot text 0x%x..0x%x (%d bytes) runs %d bytes past the page at 0x%x" % (
        start, end, end - start, end - page - PAGE, page)


def hot_functions(lib, start, end):
    """'size name' lines of the functions between start and end, largest first."""
    try:
        out = subprocess.run(["nm", "-S", "-C", "--defined-only", lib], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        return ["(nm failed: %s)" % e]
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "Tt" and start <= int(parts[0], 16) < end:
            rows.append((int(parts[1], 16), parts[3]))
    return ["%5d %s" % r for r in sorted(rows, reverse=True)]


def main(map_path, lib):
    results = []
    sections = hot_sections(open(map_path).read())
    problem = span_problem(sections)
    detail = []
    if sections:
        start = min(a for a, _, _ in sections)
        end = max(a + n for a, n, _ in sections)
        detail.append("hot text: %d bytes from 0x%x in %d input sections" % (end - start, start, len(sections)))
        if problem:
            detail += hot_functions(lib, start, end)
    notes = [problem] + detail if problem else detail
    results.append((problem is None, "the FDK_HOT functions lie in one 4 KiB page", notes))

    starts_page = bool(sections) and min(a for a, _, _ in sections) % PAGE == 0
    results.append((starts_page, "the hot text starts a page (core/hot.cpp is linked first)", []))

    crossing = ("Linker script and memory map\n"
                " .text.hot      0x0000000000023000      0xf00 a.o\n"
                " .text.hot.some_long_name\n"
                "                0x0000000000023f00      0x200 b.o\n")
    results.append((len(hot_sections(crossing)) == 2 and span_problem(hot_sections(crossing)) is not None,
                    "a map whose hot text crosses a page is refused", []))

    print("1..%d" % len(results))
    failed = 0
    for i, (ok, name, notes) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        for note in notes:
            print("# " + note)
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
