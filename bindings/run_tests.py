# SPDX-License-Identifier: MIT
"""Runs one binding's tests with its own language's runner and reports every test case as
TAP, so meson and scripts/summarize count each. A missing toolchain is a failure (Bail
out!), never a skip.

usage: run_tests.py rust|go|ocaml|python SOURCE_DIR BUILD_DIR [SANITIZER_RUNTIME...]

Build products (cargo's target dir, dune's _build, Go's caches, Python's bytecode) go under
BUILD_DIR. PKG_CONFIG_PATH and LD_LIBRARY_PATH must point at the fdkit to test.

Go always runs under its race detector with cgo's full pointer checks. SANITIZER_RUNTIME
names the sanitizer runtimes (libasan.so first) a sanitized library needs: the language's
own programs are not instrumented, so the test programs (never the compilers) preload them,
with leak detection off (the language runtimes keep memory to the end by design)."""
import json
import os
import re
import shutil
import subprocess
import sys


def cargo(src, build, preload):
    cmd = ["cargo", "test", "--offline", "--manifest-path", os.path.join(src, "Cargo.toml"),
           "--target-dir", os.path.join(build, "target")]
    env = {}
    if preload:
        # A cargo runner preloads the runtimes into the test programs only, not into rustc.
        host = re.search(r"^host: (\S+)$", subprocess.check_output(["rustc", "-vV"], text=True), re.M).group(1)
        runner = "CARGO_TARGET_" + re.sub(r"[^A-Z0-9]", "_", host.upper()) + "_RUNNER"
        env = {runner: "env LD_PRELOAD=" + preload, **sanitizer_options()}
    return cmd, src, env, parse_cargo


def sanitizer_options(*extra):
    # Appended options override the test setup's (the last value of an option wins).
    options = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0", *extra]))
    return {"ASAN_OPTIONS": options}


def parse_cargo(out):
    # "     Running tests/fd.rs (...)" names the binary of the "test NAME ... ok" lines after it.
    binary = ""
    for line in out.splitlines():
        m = re.match(r"\s*Running (?:unittests )?(\S+)", line)
        if m:
            binary = os.path.splitext(os.path.basename(m.group(1)))[0]
            continue
        m = re.match(r"test (\S+) \.\.\. (ok|FAILED|ignored)$", line)
        if m:
            yield f"{binary}::{m.group(1)}", m.group(2) != "FAILED", m.group(2) == "ignored"


def go(src, build, preload):
    env = {"GOCACHE": os.path.join(build, "cache"), "GOPATH": os.path.join(build, "gopath"),
           "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GO111MODULE": "on", "CGO_ENABLED": "1",
           "GODEBUG": "cgocheck=2"}
    return ["go", "test", "-race", "-json", "-count=1", "./..."], src, env, parse_go


def parse_go(out):
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("Test") and event.get("Action") in ("pass", "fail", "skip"):
            yield event["Test"], event["Action"] != "fail", event["Action"] == "skip"


def dune(src, build, preload):
    cmd = ["dune", "test", "--root", src, "--build-dir", os.path.join(build, "_build"),
           "--force", "--no-print-directory"]
    env = {}
    if preload:
        # dune runs the test programs itself: the compilers run with the runtimes preloaded
        # too, harmlessly. use_sigaltstack=0 leaves the alternate signal stacks to the OCaml
        # runtime, which manages its threads' own (with ASan's, thread exit fails in ASan).
        env = {"LD_PRELOAD": preload, **sanitizer_options("use_sigaltstack=0")}
    return cmd, src, env, parse_tap


def parse_tap(out):
    # The OCaml tests print TAP lines themselves.
    for line in out.splitlines():
        m = re.match(r"(not )?ok \d+ - (.*?)( # SKIP.*)?$", line)
        if m:
            yield m.group(2), not m.group(1), bool(m.group(3))


def unittest(src, build, preload):
    cmd = [sys.executable, "-m", "unittest", "discover", "-v", "-s", "tests", "-t", "tests"]
    env = {"PYTHONPATH": src, "PYTHONPYCACHEPREFIX": os.path.join(build, "pycache")}
    if preload:
        env.update({"LD_PRELOAD": preload, **sanitizer_options()})
    return cmd, src, env, parse_unittest


def parse_unittest(out):
    for line in out.splitlines():
        m = re.match(r"(\w+) \(([\w.]+?)(?:\.\1)?\) \.\.\. (ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$",
                     line)
        if m:
            status = m.group(3)
            yield f"{m.group(2)}.{m.group(1)}", status not in ("FAIL", "ERROR", "unexpected success"), \
                status.startswith("skipped")


RUNNERS = {"rust": (cargo, ["cargo", "rustc"]), "go": (go, ["go"]),
           "ocaml": (dune, ["dune", "ocamlfind", "ocamlopt"]), "python": (unittest, [])}


def main():
    lang, src, build = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    preload = ":".join(sys.argv[4:])
    make, tools = RUNNERS[lang]
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print(f"Bail out! the {lang} binding's toolchain is missing: {', '.join(missing)} not in PATH"
              " (scripts/install-deps --all installs it)")
        sys.exit(1)
    os.makedirs(build, exist_ok=True)
    cmd, cwd, extra_env, parse = make(src, build, preload)
    print("# " + " ".join(f"{k}={v}" for k, v in extra_env.items() if k.endswith(("PRELOAD", "RUNNER", "OPTIONS", "GODEBUG"))) + " " + " ".join(cmd))
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **extra_env},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
    results = list(parse(proc.stdout))
    if proc.returncode != 0 and all(ok for _, ok, _ in results):
        results.append((f"{cmd[0]} exited with status {proc.returncode}", False, False))
    for i, (name, ok, skip) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}{' # SKIP' if skip else ''}")
    if not results or not all(ok for _, ok, _ in results):
        print("# " + proc.stdout.rstrip().replace("\n", "\n# "))
    if not results:
        print("Bail out! no test case ran")
    print(f"1..{len(results)}")
    sys.exit(0 if results and proc.returncode == 0 else 1)


if __name__ == "__main__":
    main()
