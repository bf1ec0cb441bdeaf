#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The installed fdkit tool runs from any prefix, reported as TAP.

usage: install_prefix.py BUILD_DIR PREFIX RPATH

Installs the build with `meson install --destdir` into a temporary directory, moves the
installed prefix to another place (a prefix the build never heard of, like /opt/x), and
runs the tool there with a clean environment (no LD_LIBRARY_PATH). RPATH is 'true' when the
build has -Dinstall_rpath=true: the tool must then load the library installed beside it;
with 'false' (distribution packages) the tool must carry no RUNPATH at all.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "consumers"))
from consumers import Steps, tool  # noqa: E402  (TAP steps: a failure ends the test)

CLEAN_ENV = {"PATH": "/usr/bin:/bin"}


def runpath(binary):
    out = subprocess.run(["readelf", "-d", "-W", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "(RUNPATH)" in line or "(RPATH)" in line:
            return line.split("[", 1)[1].rstrip("]")
    return None


def main(build, prefix, rpath):
    steps = Steps()
    with tempfile.TemporaryDirectory(prefix="fdkit-install-") as tmp:
        dest = os.path.join(tmp, "dest")
        steps.run("meson install --destdir", [tool("meson"), "install", "-C", build, "--no-rebuild", "--quiet",
                                              "--destdir", dest])
        # the installed prefix, moved to a prefix the build never heard of
        moved = os.path.join(tmp, "opt", "x")
        os.makedirs(os.path.dirname(moved))
        shutil.move(dest + prefix, moved)
        fdkit = os.path.join(moved, "bin", "fdkit")
        steps.check("the tool is installed", os.path.isfile(fdkit), f"no {fdkit}")
        found = runpath(fdkit)
        if rpath == "false":
            steps.check("-Dinstall_rpath=false: the tool has no RUNPATH", found is None, f"RUNPATH {found}")
            steps.done()
            return 0
        steps.check("its RUNPATH is relative to $ORIGIN", found is not None and found.startswith("$ORIGIN"),
                    f"RUNPATH {found}")
        deps = steps.run("ldd resolves every library in a clean environment", ["ldd", fdkit], env=CLEAN_ENV)
        lib = [line.split("=>")[1].split()[0] for line in deps.splitlines() if "libfdkit.so" in line]
        steps.check("libfdkit comes from the moved prefix",
                    len(lib) == 1 and os.path.realpath(lib[0]).startswith(os.path.realpath(moved)), deps)
        out = steps.run("fdkit --version runs", [fdkit, "--version"], env=CLEAN_ENV)
        steps.check("it prints its version", out.startswith("fdkit "), out)
        out = steps.run("fdkit run captures a child's output", [fdkit, "run", "--", "/bin/echo", "from-opt-x"],
                        env=CLEAN_ENV, cwd=tmp)
        steps.check("the output reached the tool", "from-opt-x" in out, out)
    steps.done()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
