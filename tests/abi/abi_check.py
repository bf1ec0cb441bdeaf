#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fdkit's ABI against its committed baseline (libabigail 2.2), reported as TAP.

usage:
  abi_check.py check LIB BASELINE
      abidiff of the built library (with debug info) against the baseline, looking only
      at the types of the public headers (public-types.suppr); any non-zero exit fails
      (abidiff 2.2 exits 4, not 8, for a grown public struct, so the incompatible bit
      alone is not enough).
  abi_check.py constants INCLUDE_DIR CONSTANTS CC
      every FDK_* constant of the public headers has the value the list says; macros are
      invisible to abidiff, so a changed flag value would otherwise pass.
  abi_check.py can-fail BUILD_DIR LIB INCLUDE_DIR
      rebuilds, in a temporary directory, a copy of the library whose public struct
      fdk_rusage grew by one field (recompiling only the objects that include the header)
      and asserts that the check rejects it while accepting the unmodified library.
  abi_check.py rules CC
      the same check on a small library of fdkit's shape: a const added to a pointer to an
      opaque handle and a field added behind one pass; a grown public struct, a changed
      parameter type and a removed function fail.
  abi_check.py update LIB INCLUDE_DIR BASELINE CONSTANTS CC SYMBOLS VERSION
      rewrites the baseline, appends new constants, and appends the library's new symbols
      to the Debian symbols file with VERSION (`meson compile -C build abi-update`).
      Before 1.0 any change is accepted; from 1.0 on, a removed or changed function,
      variable, type or constant is refused unless the soname's major changed.

doc/abi.md says when to run which.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "consumers"))
from consumers import tool  # noqa: E402  (a Bail out! when a program is missing)

# Constants that change with every release by design; fdk_version() is checked elsewhere.
VOLATILE_CONSTANTS = {"FDK_VERSION_MAJOR", "FDK_VERSION_MINOR", "FDK_VERSION_PATCH", "FDK_VERSION_NUMBER"}


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, detail=""):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}", flush=True)
        if not ok:
            self.failed += 1
            if detail:
                print("# " + detail.rstrip().replace("\n", "\n# "), flush=True)
        return ok

    def done(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


def has_debug_info(lib):
    out = subprocess.run(["readelf", "-S", "-W", lib], capture_output=True, text=True, check=True).stdout
    return ".debug_info" in out


def public_headers(include):
    """The directory abidiff reads public types from: include/fdkit (fdkit.h only includes it)."""
    return os.path.join(include, "fdkit")


SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "public-types.suppr")
LOCATION = re.compile(r" filepath='([^']*)' line='\d+' column='\d+'")


def abidw(lib, include, out):
    """The ABI description of lib. Source locations are kept for the public headers only:
    the suppressions need them to tell public types from private ones, and every other
    location would name a file of the machine that wrote it. Private types are kept (without
    a location), so a const added to a pointer to an opaque handle compares as harmless."""
    raw = out + ".raw"
    subprocess.run([tool("abidw"), "--headers-dir", public_headers(include),
                    "--drop-undefined-syms", "--exported-interfaces-only", "--no-corpus-path",
                    "--no-comp-dir-path", "--out-file", raw, lib], check=True)
    public = re.compile(r"(^|/)include/fdkit/[^/]+\.h$")
    text = LOCATION.sub(lambda m: m.group(0) if public.search(m.group(1)) else "", open(raw).read())
    os.unlink(raw)
    with open(out, "w") as f:
        f.write(text)


def abidiff(baseline, lib):
    """(exit code, report) of lib against the baseline's ABI description. abidiff's
    --headers-dir2 cannot be used against a baseline without absolute paths (it then
    filters out every change), so public-types.suppr says what is public."""
    proc = subprocess.run([tool("abidiff"), "--suppressions", SUPPRESSIONS, baseline, lib],
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def soname_of(lib):
    out = subprocess.run(["readelf", "-d", "-W", lib], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    return m.group(1) if m else ""


def baseline_soname(baseline):
    m = re.search(r"soname='([^']+)'", open(baseline).read())
    return m.group(1) if m else ""


def soname_major(soname):
    return soname.rsplit(".so.", 1)[-1].split(".")[0]


def check(lib, baseline, tap):
    if not tap.result(has_debug_info(lib), "the library has debug info",
                      f"{lib} was built without -g: abidiff cannot see type changes (use buildtype debugoptimized)"):
        return
    code, report = abidiff(baseline, lib)
    tap.result(code == 0, "abidiff against tests/abi/fdkit.abi finds no change",
               f"abidiff exited {code}:\n{report}\nA compatible addition: meson compile -C BUILD abi-update "
               "(doc/abi.md). An incompatible change needs the soname's major bumped.")


# --- constants -------------------------------------------------------------------------

def header_constants(include, cc):
    """{name: value text} of every object-like FDK_* macro reachable from fdkit.h, its value
    computed by compiling a program that prints it."""
    defs = subprocess.run([cc, "-dM", "-E", f"-I{include}", "-x", "c", "-"], input="#include <fdkit.h>\n",
                          capture_output=True, text=True, check=True).stdout
    names = sorted(m.group(1) for m in re.finditer(r"^#define (FDK_[A-Z0-9_]+) \S", defs, flags=re.M)
                   if m.group(1) != "FDK_API" and m.group(1) not in VOLATILE_CONSTANTS)
    # unsigned constants (FDK_RLIM_INFINITY) are printed unsigned, the rest signed
    lines = ["#include <fdkit.h>", "#include <stdio.h>", "int main(void) {"]
    for n in names:
        lines.append(f'  if ((long long)({n}) < 0 && ({n}) < 0) printf("{n} %lld\\n", (long long)({n}));')
        lines.append(f'  else printf("{n} %llu\\n", (unsigned long long)({n}));')
    lines += ["  return 0;", "}"]
    with tempfile.TemporaryDirectory(prefix="fdkit-abi-constants-") as tmp:
        src, exe = os.path.join(tmp, "constants.c"), os.path.join(tmp, "constants")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([cc, "-std=c99", "-w", f"-I{include}", src, "-o", exe], check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def read_constants(path):
    """(header comment lines, {name: value}) in file order."""
    comments, values = [], {}
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("#") or not line.strip():
            comments.append(line)
        else:
            name, value = line.split()
            values[name] = value
    return comments, values


def write_constants(path, comments, values):
    with open(path, "w") as f:
        f.write("\n".join(comments) + "\n")
        for name, value in values.items():
            f.write(f"{name} {value}\n")


def constants(include, listed_path, cc, tap):
    _, listed = read_constants(listed_path)
    current = header_constants(include, cc)
    gone = [n for n in listed if n not in current]
    changed = [f"{n}: {listed[n]} -> {current[n]}" for n in listed if n in current and current[n] != listed[n]]
    new = [n for n in current if n not in listed]
    tap.result(not gone, "no listed FDK_* constant was removed", "removed: " + ", ".join(gone))
    tap.result(not changed, "every listed FDK_* constant keeps its value", "changed: " + "; ".join(changed))
    tap.result(not new, "every FDK_* constant is in tests/abi/constants.txt",
               "not listed: " + ", ".join(new) + "\nappend them with: meson compile -C BUILD abi-update")


# --- can-fail ----------------------------------------------------------------------------

GROWN_STRUCT = "fdk_rusage"


def grow_struct(include, copy):
    """Copies the public headers to copy and appends a field to GROWN_STRUCT; returns the
    header it changed."""
    shutil.copytree(include, copy)
    for root, _, files in os.walk(copy):
        for name in files:
            path = os.path.join(root, name)
            text = open(path).read()
            grown, n = re.subn(r"\n\}\s*" + GROWN_STRUCT + r"\s*;", "\n  int64_t abi_check_added;\n} "
                               + GROWN_STRUCT + ";", text)
            if n == 1:
                open(path, "w").write(grown)
                return os.path.relpath(path, copy)
    return None


def objects_including(build, header_abs, lib_objdir):
    """The library's object files whose recorded dependencies include header_abs."""
    out = subprocess.run([tool("ninja"), "-C", build, "-t", "deps"], capture_output=True, text=True, check=True).stdout
    found, current = [], None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line.split(":")[0]
        elif current and current.startswith(lib_objdir) and line.strip():
            if os.path.realpath(os.path.join(build, line.strip())) == header_abs:
                found.append(current)
    return sorted(set(found))


def retarget_include(args, cwd, include, copy):
    """The compile arguments (run in cwd) with the public include directory replaced by the copy."""
    out = []
    for a in args:
        if a.startswith("-I") and os.path.realpath(os.path.join(cwd, a[2:])) == os.path.realpath(include):
            out.append("-I" + copy)
        else:
            out.append(a)
    return out


def build_grown_copy(build, lib, include, tmp, tap):
    """Relinks the library in tmp with the objects that see the grown struct recompiled;
    returns its path, or None after reporting why not."""
    copy = os.path.join(tmp, "include")
    header = grow_struct(include, copy)
    if not tap.result(header is not None, f"the public headers define struct {GROWN_STRUCT} to grow",
                      f"no '}} {GROWN_STRUCT};' in {include}: change GROWN_STRUCT to another public struct"):
        return None
    lib_rel = os.path.relpath(lib, build)
    lib_objdir = lib_rel + ".p/"
    objects = objects_including(build, os.path.realpath(os.path.join(include, header)), lib_objdir)
    if not tap.result(bool(objects), f"some library objects include {header}", "ninja -t deps lists none"):
        return None
    commands = {e["output"]: e for e in json.load(open(os.path.join(build, "compile_commands.json")))}
    replaced = {}
    for obj in objects:
        entry = commands[obj]
        args = shlex.split(entry["command"])
        # drop the dependency-file flags and the output, then compile into tmp
        kept, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-MD",):
                continue
            elif a in ("-MQ", "-MF", "-o"):
                skip = True
            else:
                kept.append(a)
        new_obj = os.path.join(tmp, "obj", obj.replace("/", "_"))
        os.makedirs(os.path.dirname(new_obj), exist_ok=True)
        cwd = entry["directory"]
        kept = retarget_include(kept, cwd, include, copy)
        if not any(a == "-I" + copy for a in kept):
            tap.result(False, f"recompile {obj} with the copy", f"no -I of {include} in: {entry['command']}")
            return None
        proc = subprocess.run(["nice", *kept, "-o", new_obj], cwd=cwd, capture_output=True, text=True)
        if proc.returncode:
            tap.result(False, f"recompile {obj}", proc.stderr)
            return None
        replaced[obj] = new_obj
    tap.result(True, f"{len(replaced)} objects recompiled with the grown struct")
    link = subprocess.run([tool("ninja"), "-C", build, "-t", "commands", lib_rel], capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]
    out_lib = os.path.join(tmp, os.path.basename(lib))
    args = []
    for a in shlex.split(link):
        args.append(out_lib if a == lib_rel else replaced.get(a, a))
    proc = subprocess.run(["nice", *args], cwd=build, capture_output=True, text=True)
    if not tap.result(proc.returncode == 0, "the grown copy links", proc.stderr):
        return None
    return out_lib


def can_fail(build, lib, include, tap):
    with tempfile.TemporaryDirectory(prefix="fdkit-abi-canfail-") as tmp:
        baseline = os.path.join(tmp, "fresh.abi")
        abidw(lib, include, baseline)
        code, report = abidiff(baseline, lib)
        tap.result(code == 0, "the unmodified library passes against its own fresh baseline",
                   f"abidiff exited {code}:\n{report}")
        grown_lib = build_grown_copy(build, lib, include, tmp, tap)
        if grown_lib is None:
            return
        code, report = abidiff(baseline, grown_lib)
        tap.result(code != 0, "abidiff rejects the copy with a grown public struct", report)
        tap.result(GROWN_STRUCT in report and "size changed" in report,
                   f"its report names {GROWN_STRUCT} and its size change", report)
        # struct fdk_process (lib/process) holds an fdk_exit_status and grew with it, but it
        # is only ever seen through an opaque pointer
        tap.result("struct fdk_process'" not in report, "the private struct behind fdk_process is not reported",
                   report)


# --- rules -------------------------------------------------------------------------------

# A small library in fdkit's shape (an opaque handle, a public struct), and variants of it
# with the answer the check must give: (name, header edits, source edits, must pass).
TOY_HEADER = """#include <stdint.h>
typedef struct fdk_thing fdk_thing;
typedef struct fdk_pub { int32_t a; } fdk_pub;
int fdk_use(fdk_thing *t, fdk_pub *p, int n);
int fdk_other(void);
"""
TOY_SOURCE = """#include <fdkit/toy.h>
#define API __attribute__((visibility("default")))
struct fdk_thing { int a; };
API int fdk_use(fdk_thing *t, fdk_pub *p, int n) { return t->a + p->a + n; }
API int fdk_other(void) { return 1; }
"""
TOY_VARIANTS = [
    ("the unchanged library passes", [], [], True),
    ("a const added to a pointer to an opaque handle passes",
     [("int fdk_use(fdk_thing *t", "int fdk_use(const fdk_thing *t")],
     [("int fdk_use(fdk_thing *t", "int fdk_use(const fdk_thing *t")], True),
    ("a field added behind an opaque handle passes", [], [("struct fdk_thing { int a; }", "struct fdk_thing { int a; long b; }")], True),
    ("a grown public struct fails", [("{ int32_t a; }", "{ int32_t a; int32_t b; }")], [], False),
    ("a changed parameter type fails", [("int n);", "int64_t n);")], [("int n)", "int64_t n)")], False),
    ("a removed function fails", [("int fdk_other(void);\n", "")], [("API int fdk_other(void) { return 1; }\n", "")], False),
]


def build_toy(cc, where, header_edits, source_edits):
    header, source = TOY_HEADER, TOY_SOURCE
    for old, new in header_edits:
        header = header.replace(old, new)
    for old, new in source_edits:
        source = source.replace(old, new)
    os.makedirs(os.path.join(where, "include", "fdkit"))
    with open(os.path.join(where, "include", "fdkit", "toy.h"), "w") as f:
        f.write(header)
    with open(os.path.join(where, "toy.c"), "w") as f:
        f.write(source)
    lib = os.path.join(where, "libtoy.so.0")
    subprocess.run([cc, "-g", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Iinclude", "-Wl,-soname,libtoy.so.0",
                    "toy.c", "-o", lib], cwd=where, check=True)
    return lib


def rules(cc, tap):
    """The check's answers on a small library: what passes and what fails."""
    with tempfile.TemporaryDirectory(prefix="fdkit-abi-rules-") as tmp:
        base = build_toy(cc, os.path.join(tmp, "base"), [], [])
        baseline = os.path.join(tmp, "base.abi")
        abidw(base, os.path.join(tmp, "base", "include"), baseline)
        for i, (name, header_edits, source_edits, passes) in enumerate(TOY_VARIANTS):
            lib = build_toy(cc, os.path.join(tmp, f"v{i}"), header_edits, source_edits)
            code, report = abidiff(baseline, lib)
            tap.result((code == 0) == passes, name, f"abidiff exited {code}:\n{report}")


# --- update ------------------------------------------------------------------------------

def incompatible_changes(report):
    """The summary lines of an abidiff report that count removed or changed interfaces."""
    bad = []
    for m in re.finditer(r"(Functions|Variables) changes summary: (\d+) Removed, (\d+) Changed", report):
        if int(m.group(2)) or int(m.group(3)):
            bad.append(m.group(0))
    for m in re.finditer(r"Function symbols changes summary: (\d+) Removed", report):
        if int(m.group(1)):
            bad.append(m.group(0))
    return bad


def exported_symbols(lib):
    """name@VERSION_NODE of every symbol the library defines, as dpkg-gensymbols names them:
    nm -D prints name@@NODE, and each node itself as an absolute symbol NODE."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        kind, name = line.split()[-2:]
        if "@" in name:
            symbols.append(name.replace("@@", "@"))
        elif kind == "A":
            symbols.append(f"{name}@{name}")
    return symbols


def update_symbols(lib, symbols_path, version):
    """Appends the symbols the Debian symbols file lacks, with the version that adds them; a
    listed symbol is never removed here (dpkg-gensymbols fails the package build on it)."""
    lines = open(symbols_path).read().splitlines()
    listed = {line.split()[0] for line in lines if line.startswith(" ")}
    new = [f" {sym} {version}" for sym in sorted(exported_symbols(lib)) if sym not in listed]
    if new:
        with open(symbols_path, "a") as f:
            f.write("\n".join(new) + "\n")
    return len(new)


def update(lib, include, baseline, constants_path, cc, symbols_path, version):
    if not has_debug_info(lib):
        sys.exit(f"{lib} has no debug info: build with -g (buildtype debugoptimized)")
    major_before = soname_major(baseline_soname(baseline)) if os.path.exists(baseline) else ""
    major_now = soname_major(soname_of(lib))
    stable = major_now not in ("", "0") and major_now == major_before
    refused = []
    if os.path.exists(baseline):
        _, report = abidiff(baseline, lib)
        bad = incompatible_changes(report)
        if bad:
            print(report)
            refused += bad
    comments, listed = read_constants(constants_path) if os.path.exists(constants_path) else (
        ["# Every FDK_* constant of the public headers and its value (doc/abi.md)."], {})
    current = header_constants(include, cc)
    for n, v in listed.items():
        if current.get(n) != v:
            refused.append(f"{n}: {v} -> {current.get(n, 'removed')}")
    if refused and stable:
        sys.exit("incompatible changes in a stable major version (doc/abi.md):\n  " + "\n  ".join(refused))
    why = "before 1.0" if major_now in ("", "0") else f"soname major {major_before or 'none'} -> {major_now}"
    for line in refused:
        print(f"incompatible, accepted ({why}; list it in CHANGELOG.md): {line}")
    abidw(lib, include, baseline)
    # listed names keep their order (changed values in place), new ones are appended
    merged = {n: current[n] for n in listed if n in current}
    merged.update((n, v) for n, v in current.items() if n not in merged)
    write_constants(constants_path, comments, merged)
    added = update_symbols(lib, symbols_path, version)
    print(f"wrote {baseline} and {constants_path}; {added} new symbols in {symbols_path}")


def main(argv):
    mode = argv[1]
    if mode == "update":
        update(*argv[2:9])
        return 0
    tap = Tap()
    if mode == "check":
        check(argv[2], argv[3], tap)
    elif mode == "constants":
        constants(argv[2], argv[3], argv[4], tap)
    elif mode == "rules":
        rules(argv[2], tap)
    elif mode == "can-fail":
        can_fail(argv[2], argv[3], argv[4], tap)
    else:
        sys.exit(__doc__)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
