# SPDX-License-Identifier: MIT
"""Writes the reference's "Functions by area" page: every function the public headers
declare with FDK_API, grouped by header in the order fdkit.h includes them (uv.h last), each
named so that Doxygen links it to its documentation. Generated at build time, so the page
lists exactly what the headers declare.

usage: function_index.py OUTPUT.md INCLUDE_DIR
"""
import os
import re
import sys

DECLARATION = re.compile(r"FDK_API\b[^;{]*?\b(fdk_\w+)\s*\(", re.S)
FILE_BRIEF = re.compile(r"/\*\*\s*@file\s*\n\s*\*\s*fdkit\s+\S+\s+(.*?)(?:\n\s*\*\s*\n|\*/)", re.S)


def headers(include):
    umbrella = open(os.path.join(include, "fdkit.h"), encoding="utf-8").read()
    names = re.findall(r'#include "fdkit/(\w+\.h)"', umbrella)
    return names + sorted(set(n for n in os.listdir(os.path.join(include, "fdkit")) if n.endswith(".h")) - set(names))


def main():
    output, include = sys.argv[1], sys.argv[2]
    out = ["# Functions by area {#functions_by_area}", "",
           "Every function of the C API, by header. Each header's page (under Files) has the",
           "types, constants and rules of its area; `fdkit.h` includes all of them but `fdkit/uv.h`.", ""]
    total = 0
    for name in headers(include):
        text = open(os.path.join(include, "fdkit", name), encoding="utf-8").read()
        functions = DECLARATION.findall(text)
        if not functions:
            continue
        brief = FILE_BRIEF.search(text)
        about = " ".join(brief.group(1).replace("*", " ").split()) if brief else ""
        about = about[:1].upper() + about[1:]
        out += [f"## fdkit/{name}", "", about, ""] + [f"- {f}()" for f in functions] + [""]
        total += len(functions)
    if total == 0:
        raise SystemExit("function_index.py: no FDK_API function found under " + include)
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
