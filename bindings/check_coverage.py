# SPDX-License-Identifier: MIT
"""Lists the C functions exported by libfdkit (lib/fdkit.sym) that a binding never calls, and
fails unless each is in that binding's exceptions file (bindings/<lang>/UNBOUND: one name per
line, '#' comments say why). A listed name the binding does call fails too, so the lists only
shrink. Calls are found in each binding's own sources, declarations excluded:
  rust    src/*.rs but sys.rs (the extern block)      go      *.go and bridge.c
  ocaml   src/*.c                                       python  fdkit/*.py but _native.py

usage: check_coverage.py SOURCE_ROOT   (prints TAP, one case per binding)"""
import glob
import os
import re
import sys

SOURCES = {
    "rust": ("src/*.rs", {"sys.rs"}),
    "go": ("*.go", set()),
    "ocaml": ("src/*.c", set()),
    "python": ("fdkit/*.py", {"_native.py"}),
}


def exported(root):
    text = open(os.path.join(root, "lib", "fdkit.sym")).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return sorted(set(re.findall(r"^\s*(fdk_\w+);", text, flags=re.M)))


def called(root, lang, names):
    pattern, skip = SOURCES[lang]
    base = os.path.join(root, "bindings", lang)
    files = [f for f in glob.glob(os.path.join(base, pattern)) if os.path.basename(f) not in skip]
    if lang == "go":
        files.append(os.path.join(base, "bridge.c"))
    text = "\n".join(open(f).read() for f in files)
    return {n for n in names if re.search(r"\b" + n + r"\b", text)}


def exceptions(root, lang):
    path = os.path.join(root, "bindings", lang, "UNBOUND")
    if not os.path.exists(path):
        return set()
    return {line.split("#")[0].strip() for line in open(path) if line.split("#")[0].strip()}


def main():
    root = sys.argv[1]
    names = exported(root)
    failed = 0
    print(f"1..{len(SOURCES)}")
    for i, lang in enumerate(SOURCES, 1):
        uses = called(root, lang, names)
        listed = exceptions(root, lang)
        missing = [n for n in names if n not in uses and n not in listed]
        stale = sorted(listed & uses)
        unknown = sorted(listed - set(names))
        ok = not (missing or stale or unknown)
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} - {lang} calls {len(uses)} of {len(names)} exported functions, "
              f"{len(listed)} listed as unbound")
        for what, items in (("not called and not listed", missing), ("listed but called", stale),
                            ("listed but not exported", unknown)):
            if items:
                print(f"# {what}: {' '.join(items)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
