#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every source and build file of the tree names its licence in an SPDX line near its top.

usage: check_spdx.py SOURCE_DIR   (TAP on stdout)
"""
import os
import sys

TAG = "SPDX-License-Identifier: MIT"
SOURCE_ENDINGS = (".c", ".h", ".cpp", ".rs", ".go", ".ml", ".mli", ".py", ".sh", ".sym")
SOURCE_NAMES = {"meson.build", "meson_options.txt", "Doxyfile.in", "go.mod", "Cargo.toml", "dune",
                "dune-project", "rules"}
SCRIPT_DIRS = ("scripts", ".ci")
SKIP_DIRS = {".git", "target", "_build", "__pycache__", "node_modules"}
HEAD_LINES = 5


def wanted(rel):
    name = os.path.basename(rel)
    top = rel.split(os.sep, 1)[0]
    if rel.startswith("debian" + os.sep):
        return name == "rules"  # the rest is packaging data; debian/copyright states the licence
    return name.endswith(SOURCE_ENDINGS) or name in SOURCE_NAMES or (top in SCRIPT_DIRS and os.sep in rel)


def main():
    root = os.path.abspath(sys.argv[1])
    missing, checked = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build"))
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if not wanted(rel):
                continue
            checked += 1
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                head = [f.readline() for _ in range(HEAD_LINES)]
            if not any(TAG in line for line in head):
                missing.append(rel)
    print("1..1")
    if missing:
        print(f"not ok 1 - {len(missing)} of {checked} source files lack '{TAG}' in their first {HEAD_LINES} lines")
        for rel in missing:
            print(f"# {rel}")
        return 1
    print(f"ok 1 - all {checked} source files carry '{TAG}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
