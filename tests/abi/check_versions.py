#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every place that states fdkit's version or soname agrees with meson's project version.

Usage: check_versions.py SOURCE_ROOT BUILD_ROOT LIBRARY PROJECT_VERSION

A release changes the version in meson.build; this test lists every other place that must
follow (the header macros, the library's soname and fdk_version(), the pkg-config file, the
version script's newest node, the Debian changelog, package name and symbols file, the Rust
crate, and the bindings that load the library by file name). Output is TAP.
"""
import ctypes
import os
import re
import subprocess
import sys


def main():
    src, build, library, version = sys.argv[1:5]
    major, minor, patch = (int(x) for x in version.split("."))
    checks = []

    def check(name, got, want):
        checks.append((name, got == want, f"got {got!r}, want {want!r}"))

    def read(path):
        with open(os.path.join(src, path), encoding="utf-8") as f:
            return f.read()

    def first(pattern, text, what):
        m = re.search(pattern, text, re.M)
        if not m:
            raise SystemExit(f"Bail out! {what}: pattern {pattern!r} not found")
        return m

    common = read("include/fdkit/common.h")
    macros = tuple(int(first(rf"^#define FDK_VERSION_{part} (\d+)$", common, "common.h").group(1))
                   for part in ("MAJOR", "MINOR", "PATCH"))
    check("header FDK_VERSION_MAJOR/MINOR/PATCH", macros, (major, minor, patch))

    dynamic = subprocess.run(["readelf", "-d", library], capture_output=True, text=True, check=True).stdout
    soname = first(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic, "readelf").group(1)
    check("library soname", soname, f"libfdkit.so.{major}")

    lib = ctypes.CDLL(library)
    lib.fdk_version_string.restype = ctypes.c_char_p
    check("fdk_version()", lib.fdk_version(), major * 10000 + minor * 100 + patch)
    check("fdk_version_string()", lib.fdk_version_string().decode(), version)

    with open(os.path.join(build, "meson-private", "fdkit.pc"), encoding="utf-8") as f:
        pc = f.read()
    check("pkg-config Version", first(r"^Version: (\S+)$", pc, "fdkit.pc").group(1), version)

    # The newest node belongs to this major version and to no later minor one (a minor
    # release that adds no symbol adds no node).
    nodes = [(int(a), int(b)) for a, b in re.findall(r"^FDKIT_(\d+)\.(\d+) \{", read("lib/fdkit.sym"), re.M)]
    newest = max(nodes) if nodes else None
    checks.append(("version script's newest node", newest is not None and newest[0] == major and newest[1] <= minor,
                   f"newest FDKIT_{newest[0]}.{newest[1]} for version {version}" if newest else "no node"))

    changelog = first(r"^fdkit \(([^)]+)\)", read("debian/changelog"), "debian/changelog").group(1)
    check("debian/changelog upstream version", changelog.rsplit("-", 1)[0], version)
    package = f"libfdkit{major}"
    check("debian/control library package",
          re.findall(r"^Package: (libfdkit\d+)$", read("debian/control"), re.M), [package])
    symbols_path = f"debian/{package}.symbols"
    symbols = read(symbols_path) if os.path.exists(os.path.join(src, symbols_path)) else ""
    check(f"{symbols_path} names the soname", symbols.split(" ", 2)[:2], [soname, package])

    cargo = read("bindings/rust/Cargo.toml")
    check("Rust crate version", first(r'^version = "([^"]+)"$', cargo, "Cargo.toml").group(1), version)
    python = read("bindings/python/fdkit/_native.py")
    check("Python binding's default library", first(r'"(libfdkit\.so\.\d+)"', python, "_native.py").group(1), soname)

    print(f"1..{len(checks)}")
    for i, (name, ok, why) in enumerate(checks, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}" + ("" if ok else f" # {why}"))
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
