#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every public header compiles alone as C99 -pedantic -Werror and as C++, reported as TAP.

usage: check_headers.py INCLUDE_DIR CC CXX [UV_CFLAGS...]

fdkit/uv.h includes libuv's uv.h, which needs POSIX feature macros: it is compiled as gnu99.
The list of headers is read from INCLUDE_DIR, so new headers are covered as they appear.
"""
import pathlib
import subprocess
import sys


def main(include, cc, cxx, extra):
    root = pathlib.Path(include)
    headers = sorted(str(p.relative_to(root)) for p in root.rglob("*.h"))
    cases = []
    for h in headers:
        std = "gnu99" if h == "fdkit/uv.h" else "c99"
        cases.append((f"{h} alone as {std} -pedantic -Werror",
                      [cc, f"-std={std}", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", f"-I{root}",
                       *extra, "-x", "c", "-"]))
        cases.append((f"{h} alone as C++17", [cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                               f"-I{root}", *extra, "-x", "c++", "-"]))
    print(f"1..{len(cases)}")
    failed = 0
    for i, (name, cmd) in enumerate(cases, 1):
        header = name.split()[0]
        r = subprocess.run(cmd, input=f"#include <{header}>\n", capture_output=True, text=True)
        print(f"{'ok' if r.returncode == 0 else 'not ok'} {i} - {name}")
        if r.returncode:
            failed += 1
            print("# " + r.stderr.strip().replace("\n", "\n# "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
