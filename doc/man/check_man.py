# SPDX-License-Identifier: MIT
"""Installs the build into a temporary directory with `meson install --destdir` and checks
that each man page is where man(1) looks for it and renders without a warning. TAP output.

usage: check_man.py BUILD_DIR MANDIR PAGE[,PAGE...]   (MANDIR: the absolute install mandir)
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    build, mandir, pages = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    missing = [tool for tool in ("groff", "man") if shutil.which(tool) is None]
    if missing:
        print(f"Bail out! {', '.join(missing)} not in PATH (scripts/install-deps --all installs groff-base and man-db)")
        sys.exit(1)
    n, failed = 0, 0

    def report(name, problem):
        nonlocal n, failed
        n += 1
        failed += bool(problem)
        print(f"{'not ok' if problem else 'ok'} {n} - {name}")
        if problem:
            print("# " + problem.rstrip().replace("\n", "\n# "))

    with tempfile.TemporaryDirectory(prefix="fdkit-man-") as dest:
        proc = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", dest],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        report("meson install --destdir", proc.stdout if proc.returncode else "")
        for page in pages:
            section = page.rsplit(".", 1)[1]
            path = os.path.join(dest + mandir, "man" + section, page)
            if not os.path.isfile(path):
                report(f"{page} installed", f"{path} is missing")
                continue
            report(f"{page} installed", "")
            groff = subprocess.run(["groff", "-man", "-ww", "-z", path], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
            report(f"{page}: groff -man -ww renders it without a warning",
                   groff.stdout or (f"groff exited with {groff.returncode}" if groff.returncode else ""))
            man = subprocess.run(["man", "--warnings", "-l", path], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env={**os.environ, "MANWIDTH": "80"})
            problem = man.stderr if man.returncode == 0 else f"man exited with {man.returncode}: {man.stderr}"
            if not problem and "NAME" not in man.stdout:
                problem = "the rendered page has no NAME section:\n" + man.stdout
            report(f"{page}: man -l renders it", problem)
            if shutil.which("lexgrog"):
                # whatis(1) and apropos(1) find a page by the "name - description" line.
                lex = subprocess.run(["lexgrog", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                report(f"{page}: whatis can read its NAME line",
                       "" if lex.returncode == 0 and " - " in lex.stdout else lex.stdout)
    print(f"1..{n}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
