#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ABI checks of the built library, reported as TAP.

usage: check_symbols.py LIBFDKIT VERSION_SCRIPT

1. The dynamic symbols the library defines are exactly the names in the version script
   (so nothing is exported by accident and nothing listed is missing).
2. Every exported name starts with fdk_.
3. No symbol is STB_GNU_UNIQUE, which would pin the library in memory after dlclose.
4. The soname is libfdkit.so.<major>.
"""
import re
import subprocess
import sys


def listed_names(script):
    text = re.sub(r"/\*.*?\*/", "", open(script).read(), flags=re.S)
    names = set()
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(n.strip() for n in block.split(";") if n.strip())
    return names


def exported_names(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtDdBbRrWwVvu":
            names.add(parts[2].split("@")[0])
    # the version node itself is an absolute symbol named after it
    return {n for n in names if not n.startswith("FDKIT_")}


def main(lib, script):
    results = []
    listed, exported = listed_names(script), exported_names(lib)
    missing, extra = sorted(listed - exported), sorted(exported - listed)
    results.append((not missing and not extra, "exported symbols equal lib/fdkit.sym",
                    f"missing: {missing} extra: {extra}"))
    bad_prefix = sorted(n for n in exported if not n.startswith("fdk_"))
    results.append((not bad_prefix, "every exported name starts with fdk_", f"{bad_prefix}"))
    syms = subprocess.run(["readelf", "-W", "--syms", lib], capture_output=True, text=True, check=True).stdout
    unique = [l for l in syms.splitlines() if "UNIQUE" in l]
    results.append((not unique, "no STB_GNU_UNIQUE symbol", "\n".join(unique[:5])))
    dyn = subprocess.run(["readelf", "-d", lib], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\(SONAME\).*\[(.*)\]", dyn)
    results.append((bool(m and re.fullmatch(r"libfdkit\.so\.\d+", m.group(1))), "soname is libfdkit.so.<major>",
                    m.group(1) if m else "no soname"))
    print(f"1..{len(results)}")
    for i, (ok, name, why) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            print("# " + why.replace("\n", "\n# "))
    return 0 if all(r[0] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
