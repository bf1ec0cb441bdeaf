# SPDX-License-Identifier: MIT
"""Compiles every C code block of the documentation against a build tree, runs the ones
that are complete programs, and reports each block as a TAP test case.

usage: check_examples.py SOURCE_DIR BUILD_DIR CC SANITIZE

The pages are README.md, doc/*.md, doc/bindings/*.md and doc/man/*.md. A block is a fenced
block whose info string is `c`, or any fenced block after an example comment. An HTML
comment ending on the line just before the fence (blank lines between are allowed) says
what kind of block it is; it is invisible in the rendered page:

    <!-- example: KIND [exit=N] [stdout='TEXT'] [stderr='TEXT'] [pkg=NAME]
    context lines (optional): C declarations the block assumes
    -->

KIND is one of:

  program     (the default; no comment needed) a complete program. It is compiled and
              linked as a user would (`cc -Wall -Wextra -Wno-unused-parameter -Werror`:
              callbacks have fixed signatures; fdkit's headers and library), then run
              in a new empty directory with a 60 s limit. It must exit with status N
              (default 0); with stdout='TEXT' or stderr='TEXT', that stream must contain
              TEXT. pkg=NAME compiles (and links) the block with `pkg-config`'s flags
              for NAME too, for an example that also uses another library (GLib).
  background  a complete program that serves the next program block of the same page (a
              server and its client): it is started, and once it printed a first line on
              stdout the next block runs; then it gets SIGTERM, and must not have exited
              before. The pair runs twice in the same directory, so a server that cannot
              start again over what its first run left behind fails.
  file        a piece of a translation unit (types, callbacks) without main.
  fragment    statements, as they would appear inside a function.
  same-as PATH  (for a block in another language, which needs it) the block is the text of
              the file PATH of the source tree (less its first line when that is its
              SPDX licence line), which that language's own test suite
              builds and runs: the bindings' examples.

The wrapper of a `file` or `fragment` block is: the includes below (PRELUDE), then the
context lines, then the block itself (`file`) or the block as the body of
`void example(void) { ... }` (`fragment`). Both are compiled, not linked or run, with the
same warnings as errors, except the unused-variable and unused-function warnings: a
fragment shows a call, not what its caller does with the result.
"""
import difflib
import glob
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import tempfile

PRELUDE = """#include <fdkit.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
"""
KINDS = ("program", "background", "file", "fragment", "same-as")
# Callbacks have fixed signatures, so an unused parameter is normal in them.
WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror"]
QUIET_UNUSED = ["-Wno-unused-variable", "-Wno-unused-but-set-variable", "-Wno-unused-function"]
RUN_LIMIT_S = 60


class Block:
    def __init__(self, page, line, code, kind="program", options=None, context=""):
        self.page, self.line, self.code, self.kind = page, line, code, kind
        self.options = options or {}
        self.context = context

    @property
    def name(self):
        return f"{self.page}:{self.line} {self.kind}"


def parse_marker(text, where):
    """'example: KIND k=v ...' plus context lines -> (kind, options, context)."""
    first, _, context = text.partition("\n")
    words = shlex.split(first)
    if not words or words[0] != "example:" or len(words) < 2 or words[1] not in KINDS:
        raise ValueError(f"{where}: the comment before this block must be "
                         f"'<!-- example: {'|'.join(KINDS)} ... -->'")
    options = {}
    if words[1] == "same-as":
        if len(words) != 3:
            raise ValueError(f"{where}: same-as takes one path")
        return "same-as", {"path": words[2]}, ""
    for word in words[2:]:
        key, eq, value = word.partition("=")
        if not eq or key not in ("exit", "stdout", "stderr", "pkg"):
            raise ValueError(f"{where}: unknown example option {word!r}")
        options[key] = value
    return words[1], options, context


def blocks_of(page, rel):
    lines = open(page, encoding="utf-8").read().split("\n")
    found, marker, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!-- example:"):
            text, start = line[len("<!-- "):], i
            while "-->" not in text:
                i += 1
                text += "\n" + lines[i]
            marker = (text[:text.index("-->")].rstrip(), start + 1)
        elif re.match(r"```c\s*$", line) or (line.startswith("```") and marker):
            end = i + 1
            while not lines[end].startswith("```"):
                end += 1
            code = "\n".join(lines[i + 1:end]) + "\n"
            kind, options, context = "program", {}, ""
            if marker:
                kind, options, context = parse_marker(marker[0], f"{rel}:{marker[1]}")
            if (kind == "same-as") != (line.strip() != "```c"):
                raise ValueError(f"{rel}:{i + 1}: only a block in another language than C takes "
                                 "'example: same-as PATH', and it needs it")
            found.append(Block(rel, i + 1, code, kind, options, context))
            marker, i = None, end
        elif line.strip() and marker:
            raise ValueError(f"{rel}:{marker[1]}: an example comment must come just before its block")
        i += 1
    return found


class Checker:
    def __init__(self, source_dir, build, cc, sanitize, work):
        self.include = os.path.join(os.path.abspath(source_dir), "include")
        self.libdir = os.path.join(os.path.abspath(build), "lib")
        self.cc = shlex.split(cc)
        self.sanitize = [] if sanitize in ("", "none") else [f"-fsanitize={sanitize}"]
        self.work = work
        self.count = 0

    def compile(self, block, source):
        self.count += 1
        path = os.path.join(self.work, f"example{self.count}")
        with open(path + ".c", "w") as f:
            f.write(source)
        cmd = self.cc + WARNINGS + self.sanitize + ["-I", self.include, path + ".c"]
        linked = block.kind in ("program", "background")
        if "pkg" in block.options:
            flags = ["--cflags", "--libs"] if linked else ["--cflags"]
            cmd += shlex.split(subprocess.check_output(["pkg-config", *flags, block.options["pkg"]], text=True))
        if linked:
            cmd += ["-o", path, "-L", self.libdir, "-lfdkit", f"-Wl,-rpath,{self.libdir}"]
        else:
            cmd += QUIET_UNUSED + ["-c", "-o", path + ".o"]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            numbered = "\n".join(f"{n:4} {text}" for n, text in enumerate(source.split("\n"), 1))
            raise AssertionError(f"{shlex.join(cmd)} failed:\n{proc.stdout}\n{numbered}")
        return path

    def source(self, block):
        if block.kind in ("program", "background"):
            return block.code
        body = block.code
        if block.kind == "fragment":
            body = "void example(void);\nvoid example(void) {\n" + body + "}\n"
        return PRELUDE + block.context + "\n" + body

    def check(self, group, source_dir):
        """Checks one block, or a background block with its client; returns the test's name."""
        block = group[0]
        if block.kind == "same-as":
            self.same_as(block, source_dir)
            return f"{block.name} {block.options['path']}"
        if block.kind == "background" and (len(group) < 2 or group[1].kind != "program"):
            raise AssertionError("a background block must be followed by a program block (its client)")
        exes = [self.compile(b, self.source(b)) for b in group]
        cwd = tempfile.mkdtemp(dir=self.work)
        if block.kind == "program":
            self.run(block, exes[0], cwd)
        elif block.kind == "background":
            for _ in range(2):
                self.serve(block, exes[0], group[1], exes[1], cwd)
            return f"{block.name} with {group[1].name}"
        return block.name

    def same_as(self, block, source_dir):
        path = os.path.join(source_dir, block.options["path"])
        with open(path, encoding="utf-8") as f:
            text = f.read()
        first, _, rest = text.partition("\n")
        if "SPDX-License-Identifier" in first:  # the page shows the program, not its licence line
            text = rest
        if text != block.code:
            diff = difflib.unified_diff(block.code.splitlines(), text.splitlines(), block.page, block.options["path"],
                                        lineterm="")
            raise AssertionError("the block and the file differ:\n" + "\n".join(diff))

    def run(self, block, exe, cwd):
        proc = subprocess.run([exe], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=RUN_LIMIT_S)
        out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        want = int(block.options.get("exit", "0"))
        if proc.returncode != want:
            raise AssertionError(f"exited with {proc.returncode}, not {want}\nstdout: {out}\nstderr: {err}")
        for stream, text in (("stdout", out), ("stderr", err)):
            if stream in block.options and block.options[stream] not in text:
                raise AssertionError(f"{stream} lacks {block.options[stream]!r}:\n{text}")

    def serve(self, server, server_exe, client, client_exe, cwd):
        proc = subprocess.Popen([server_exe], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            ready, _, _ = select.select([proc.stdout], [], [], RUN_LIMIT_S)
            first = proc.stdout.readline() if ready else b""
            if not first:
                proc.kill()
                _, err = proc.communicate()
                raise AssertionError(f"{server.name} printed no line before it ended or timed out "
                                     f"(status {proc.returncode}); stderr: {err.decode(errors='replace')}")
            self.run(client, client_exe, cwd)
            if proc.poll() is not None:
                raise AssertionError(f"{server.name} ended with {proc.returncode} while its client ran")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=RUN_LIMIT_S)


def main():
    source_dir, build, cc, sanitize = sys.argv[1:5]
    pages = [os.path.join(source_dir, "README.md")]
    for pattern in ("doc/*.md", "doc/bindings/*.md", "doc/man/*.md"):
        pages += sorted(glob.glob(os.path.join(source_dir, pattern)))
    n, failed = 0, 0
    with tempfile.TemporaryDirectory(prefix="fdkit-doc-examples-") as work:
        checker = Checker(source_dir, build, cc, sanitize, work)
        for page in pages:
            rel = os.path.relpath(page, source_dir)
            try:
                blocks = blocks_of(page, rel)
            except (ValueError, IndexError) as e:
                n += 1
                failed += 1
                print(f"not ok {n} - {rel}\n# {e}", flush=True)
                continue
            i = 0
            while i < len(blocks):
                group = blocks[i:i + 2] if blocks[i].kind == "background" else blocks[i:i + 1]
                n += 1
                try:
                    name = checker.check(group, source_dir)
                    print(f"ok {n} - {name}", flush=True)
                except (AssertionError, OSError, subprocess.TimeoutExpired) as e:
                    failed += 1
                    print(f"not ok {n} - {blocks[i].name}\n# " + str(e).rstrip().replace("\n", "\n# "), flush=True)
                i += len(group)
    print(f"1..{n}")
    sys.exit(1 if failed or n == 0 else 0)


if __name__ == "__main__":
    main()
