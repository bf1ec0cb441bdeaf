# SPDX-License-Identifier: MIT
"""End-to-end tests of the fdkit tool, run as a subprocess.

usage: test_tool.py PATH_TO_FDKIT
"""
import base64
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import sys
import unittest

import tap

FDKIT = None


def fdkit(*args, timeout=60, text=True, env=None):
    return subprocess.run([FDKIT, *args], capture_output=True, text=text, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def trace_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("trace: ")]


class Usage(unittest.TestCase):
    def test_no_command_is_usage_error(self):
        r = fdkit()
        self.assertEqual(r.returncode, 125)
        self.assertIn("usage: fdkit COMMAND", r.stderr)

    def test_help_lists_commands(self):
        r = fdkit("--help")
        self.assertEqual(r.returncode, 0)
        for command in ("run", "pump", "ls", "cat", "stat", "tree"):
            self.assertRegex(r.stdout, rf"\n  {command} +\S")

    def test_unknown_command(self):
        r = fdkit("frobnicate")
        self.assertEqual(r.returncode, 125)
        self.assertIn("unknown command 'frobnicate'", r.stderr)

    def test_version(self):
        r = fdkit("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^fdkit \d+\.\d+\.\d+\n$")


class Run(unittest.TestCase):
    def test_forwards_output_and_exit_code(self):
        r = fdkit("run", "--", "sh", "-c", "echo out; echo err >&2; exit 5")
        self.assertEqual(r.returncode, 5)
        self.assertEqual(r.stdout, "out\n")
        self.assertEqual(r.stderr, "err\n")

    def test_killed_by_signal_dies_of_it(self):
        r = fdkit("run", "--", "sh", "-c", "kill -9 $$")
        self.assertEqual(r.returncode, -9)

    def test_timeout_is_124_and_kills_the_group(self):
        # The grandchild ignores SIGTERM and SIGHUP; only a group kill stops it in time.
        t0 = time.monotonic()
        r = fdkit("run", "--timeout", "200", "--grace", "100", "--new-session", "--json", "--",
                  "sh", "-c", "(trap '' TERM HUP; echo grandchild; exec sleep 30) & sleep 30")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 124, r.stderr)
        self.assertLess(took, 10)
        doc = json.loads(r.stdout)
        self.assertTrue(doc["timed_out"])
        self.assertEqual(doc["stdout"]["data"], "grandchild\n")

    def test_json_text_and_binary(self):
        r = fdkit("run", "--json", "--", "sh", "-c", "printf 'h\\303\\251llo\\n'; printf '\\377\\000x' >&2; exit 3")
        self.assertEqual(r.returncode, 3, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["status"], {"exit_code": 3})
        self.assertFalse(doc["timed_out"])
        self.assertFalse(doc["truncated"])
        self.assertEqual(doc["stdout"], {"encoding": "utf-8", "bytes": 7, "data": "h\u00e9llo\n"})
        self.assertEqual(doc["stderr"]["encoding"], "base64")
        self.assertEqual(base64.b64decode(doc["stderr"]["data"]), b"\xff\x00x")
        self.assertGreater(doc["pid"], 0)
        self.assertGreaterEqual(doc["duration_ms"], 0)

    def test_json_signal_status(self):
        r = fdkit("run", "--json", "--", "sh", "-c", "kill -TERM $$")
        self.assertEqual(r.returncode, -15)
        self.assertEqual(json.loads(r.stdout)["status"], {"signal": 15})

    def test_max_output_truncates(self):
        r = fdkit("run", "--max-output", "10", "--json", "--", "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a")
        doc = json.loads(r.stdout)
        self.assertTrue(doc["started"])
        self.assertTrue(doc["truncated"])
        self.assertEqual(doc["stdout"]["data"], "a" * 10)
        r = fdkit("run", "--max-output", "4", "--", "echo", "abcdefgh")
        self.assertEqual(r.stdout, "abcd")

    def test_stdin_cwd_env(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "input")
            with open(path, "wb") as f:
                f.write(b"x" * 200000)
            r = fdkit("run", "--stdin", path, "--cwd", d, "--clear-env", "--env", "A=1", "--env", "B=two",
                      "--", "/bin/sh", "-c", "wc -c; pwd; env | sort")
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.split()
            self.assertEqual(lines[0], "200000")
            self.assertEqual(os.path.realpath(lines[1]), os.path.realpath(d))
            self.assertIn("A=1", lines)
            self.assertIn("B=two", lines)
            self.assertNotIn("HOME=" + os.environ.get("HOME", "/root"), lines)

    def test_env_replaces_inherited(self):
        r = fdkit("run", "--env", "HOME=/elsewhere", "--", "sh", "-c", "echo $HOME; env | grep -c ^HOME=")
        self.assertEqual(r.stdout, "/elsewhere\n1\n")

    def test_close_fds(self):
        r = fdkit("run", "--close-fds", "--", "sh", "-c", "ls /proc/self/fd | wc -l")
        # 0, 1, 2 and the directory ls itself reads
        self.assertEqual(r.stdout.strip(), "4")

    def test_missing_command(self):
        r = fdkit("run", "--", "fdkit-no-such-command")
        self.assertEqual(r.returncode, 127)
        self.assertIn("ENOENT", r.stderr)

    def test_usage_errors(self):
        self.assertEqual(fdkit("run").returncode, 125)
        self.assertEqual(fdkit("run", "--timeout", "soon", "--", "true").returncode, 125)
        self.assertEqual(fdkit("run", "--env", "NOEQUALS", "--", "true").returncode, 125)
        self.assertEqual(fdkit("run", "--bogus", "--", "true").returncode, 125)
        self.assertEqual(fdkit("run", "--timeout").returncode, 125)
        self.assertEqual(fdkit("run", "--stdin", "/nonexistent", "--", "true").returncode, 125)
        self.assertIn("usage: fdkit run", fdkit("run", "--help").stdout)

    def test_trace(self):
        r = fdkit("run", "--trace", "--json", "--", "echo", "hi")
        self.assertEqual(r.returncode, 0)
        names = [l.split()[1] for l in r.stderr.splitlines() if l.startswith("trace: ")]
        self.assertIn("run", names)
        self.assertIn("spawn", names)


class Pump(unittest.TestCase):
    def test_moves_data_intact(self):
        r = fdkit("pump", "--mib", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("moved 8 MiB through a pipe", r.stdout)
        self.assertIn("checksum ok", r.stdout)

    def test_help(self):
        r = fdkit("pump", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: fdkit pump", r.stdout)

    def test_bad_argument(self):
        r = fdkit("pump", "--bogus")
        self.assertEqual(r.returncode, 125)
        self.assertIn("unknown argument '--bogus'", r.stderr)

    def test_trace_prints_spans(self):
        r = fdkit("pump", "--mib", "1", "--trace")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.startswith("trace: ")]
        self.assertTrue(any(l.split()[1] == "write" for l in lines), r.stderr[:500])
        self.assertTrue(any(l.split()[1] == "read" for l in lines), r.stderr[:500])
        # name, duration in ms, result
        self.assertRegex(lines[0], r"^trace: \S+\s+\d+\.\d{3} ms  (-E[A-Z0-9]+|\d+)")


def copy_tool_with_its_library(where):
    """Copies the tool into where/bin and the library it loads into where/lib, the build
    tree's layout (its run path is $ORIGIN/../lib), readable by everyone; the copy's path."""
    os.chmod(where, 0o755)
    tool = os.path.join(where, "bin", "fdkit")
    os.makedirs(os.path.dirname(tool))
    os.makedirs(os.path.join(where, "lib"))
    shutil.copy(FDKIT, tool)
    library = os.path.join(os.path.dirname(FDKIT), "..", "lib", "libfdkit.so.1")
    shutil.copy(os.path.realpath(library), os.path.join(where, "lib", "libfdkit.so.1"))
    return tool


class ConfinedTree(unittest.TestCase):
    """A tree under a temporary top: top/outside.txt lies outside --root top/root, and
    symlinks inside root point out of it in every way."""

    TREE = (".\n"
            "|-- Zeta\n"
            "|-- docs/\n"
            "|   |-- deep/\n"
            "|   |   `-- x\n"
            "|   |-- empty/\n"
            "|   `-- notes-link -> ../notes.txt\n"
            "|-- etc-link -> /etc\n"
            "|-- notes.txt\n"
            "|-- up -> ..\n"
            "`-- up-file -> ../outside.txt\n"
            "\n"
            "4 directories, 7 files\n")
    # Paths that lead outside root: '..' past it, absolute, and through each symlink out.
    ESCAPES = ["..", "../outside.txt", "docs/../../outside.txt", "/etc/passwd", "up", "up/outside.txt",
               "up-file", "etc-link", "etc-link/passwd"]

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="fdkit-tool-")
        cls.root = os.path.join(cls.top, "root")
        with open(os.path.join(cls.top, "outside.txt"), "w") as f:
            f.write("secret\n")
        os.makedirs(os.path.join(cls.root, "docs", "deep"))
        os.makedirs(os.path.join(cls.root, "docs", "empty"))
        for name, text in [("notes.txt", "hello\n"), ("Zeta", ""), ("docs/deep/x", "deep\n")]:
            with open(os.path.join(cls.root, name), "w") as f:
                f.write(text)
        os.chmod(os.path.join(cls.root, "notes.txt"), 0o640)
        for name, target in [("etc-link", "/etc"), ("up", ".."), ("up-file", "../outside.txt"),
                             ("docs/notes-link", "../notes.txt")]:
            os.symlink(target, os.path.join(cls.root, name))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top)

    def assert_refused(self, r, cmd, path):
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"fdkit {cmd}: refused: '{path}' leads outside --root {self.root}\n", r.stderr)
        self.assertIn("EXDEV", r.stderr)
        self.assertNotIn("secret", r.stdout)

    def assert_missing(self, r, cmd):
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rf"^fdkit {cmd}: \S+ no/such: ENOENT .*'no/such'")
        self.assertEqual(r.stdout, "")

    def assert_usage_errors(self, cmd):
        self.assertEqual(fdkit(cmd, "notes.txt").returncode, 125)  # no --root
        self.assertEqual(fdkit(cmd, "--root").returncode, 125)  # no value
        self.assertEqual(fdkit(cmd, "--root", self.root, "--bogus", "x").returncode, 125)
        r = fdkit(cmd, "--root", self.root, "a", "b")
        self.assertEqual(r.returncode, 125)
        self.assertIn("PATH (see --help)", r.stderr)
        r = fdkit(cmd, "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(f"usage: fdkit {cmd} --root DIR", r.stdout)

    def assert_trace_keeps_output(self, *args, spans):
        """--trace adds only trace lines on stderr, among them a span of each name given."""
        plain = fdkit(*args)
        traced = fdkit(*args[:1], "--trace", *args[1:])
        self.assertEqual(traced.returncode, plain.returncode)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(trace_lines(traced.stderr), traced.stderr.splitlines())
        names = {l.split()[1] for l in trace_lines(traced.stderr)}
        self.assertLessEqual(set(spans), names, traced.stderr)


class Ls(ConfinedTree):
    def test_lists_in_byte_order_with_kinds(self):
        r = fdkit("ls", "--root", self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "Zeta\ndocs/\netc-link -> /etc\nnotes.txt\nup -> ..\nup-file -> ../outside.txt\n")

    def test_subdirectory_and_inside_symlink(self):
        r = fdkit("ls", "--root", self.root, "docs")
        self.assertEqual(r.stdout, "deep/\nempty/\nnotes-link -> ../notes.txt\n")
        self.assertEqual(fdkit("ls", "--root", self.root, "docs/deep/../empty").stdout, "")
        self.assertEqual(fdkit("ls", "--root", os.path.join(self.root, "docs"), "deep").stdout, "x\n")

    def test_escapes_refused(self):
        for path in self.ESCAPES:
            if path in ("..", "up", "etc-link"):
                with self.subTest(path=path):
                    self.assert_refused(fdkit("ls", "--root", self.root, path), "ls", path)

    def test_missing_and_not_a_directory(self):
        self.assert_missing(fdkit("ls", "--root", self.root, "no/such"), "ls")
        r = fdkit("ls", "--root", self.root, "notes.txt")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ENOTDIR", r.stderr)
        r = fdkit("ls", "--root", os.path.join(self.top, "nope"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("dir_open (--root): ENOENT", r.stderr)

    def test_usage(self):
        self.assert_usage_errors("ls")
        self.assertEqual(fdkit("ls", "--root", self.root, "--follow").returncode, 125)

    def test_trace(self):
        self.assert_trace_keeps_output("ls", "--root", self.root, "docs", spans=["dir_open", "resolve", "readdir"])


class Cat(ConfinedTree):
    def test_copies_the_file(self):
        r = fdkit("cat", "--root", self.root, "notes.txt")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "hello\n", ""))
        self.assertEqual(fdkit("cat", "--root", self.root, "docs/notes-link").stdout, "hello\n")

    def test_large_binary_file(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        path = os.path.join(self.root, "big.bin")
        with open(path, "wb") as f:
            f.write(data)
        try:
            r = fdkit("cat", "--root", self.root, "big.bin", text=False)
        finally:
            os.unlink(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, data)

    def test_escapes_refused(self):
        for path in self.ESCAPES:
            with self.subTest(path=path):
                self.assert_refused(fdkit("cat", "--root", self.root, path), "cat", path)

    def test_escapes_refused_by_the_userspace_walk(self):
        walk = {"FDKIT_RESOLVE": "fallback"}
        for path in self.ESCAPES:
            with self.subTest(path=path):
                self.assert_refused(fdkit("cat", "--root", self.root, path, env=walk), "cat", path)
        r = fdkit("tree", "--root", self.root, env=walk)
        self.assertEqual((r.returncode, r.stdout), (0, self.TREE))

    def test_missing_and_directory(self):
        self.assert_missing(fdkit("cat", "--root", self.root, "no/such"), "cat")
        r = fdkit("cat", "--root", self.root, "docs")
        self.assertEqual(r.returncode, 1)
        self.assertIn("fdkit cat: read docs: EISDIR", r.stderr)

    def test_usage(self):
        self.assert_usage_errors("cat")
        self.assertEqual(fdkit("cat", "--root", self.root).returncode, 125)  # PATH is required

    def test_trace_prints_reads_and_writes(self):
        r = fdkit("cat", "--trace", "--root", self.root, "notes.txt")
        self.assertEqual((r.returncode, r.stdout), (0, "hello\n"))
        spans = [l.split() for l in trace_lines(r.stderr)]
        self.assertTrue(any(s[1] == "openat" and "path=notes.txt" in s for s in spans), r.stderr)
        self.assertEqual([s[4] for s in spans if s[1] == "read"], ["6", "0"], r.stderr)
        self.assertTrue(any(s[1] == "write" and s[4] == "6" and "fd=1" in s for s in spans), r.stderr)


class Stat(ConfinedTree):
    def fields(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        return dict(line.split(None, 1) for line in r.stdout.splitlines())

    def test_regular_file(self):
        f = self.fields(fdkit("stat", "--root", self.root, "notes.txt"))
        st = os.stat(os.path.join(self.root, "notes.txt"))
        self.assertEqual(f["path"], "notes.txt")
        self.assertEqual(f["kind"], "regular file")
        self.assertEqual(f["size"], "6")
        self.assertEqual(f["mode"], "0640 (-rw-r-----)")
        self.assertEqual(f["links"], "1")
        self.assertEqual(f["inode"], str(st.st_ino))
        self.assertEqual(f["uid"], str(st.st_uid))
        mtime = datetime.datetime.fromtimestamp(st.st_mtime_ns // 10**9, datetime.timezone.utc)
        self.assertEqual(f["modify"], mtime.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % (st.st_mtime_ns % 10**9))
        self.assertNotIn("target", f)

    def test_directory(self):
        f = self.fields(fdkit("stat", "--root", self.root, "docs"))
        self.assertEqual(f["kind"], "directory")
        self.assertRegex(f["mode"], r"^0\d{3} \(d[rwx-]{9}\)$")

    def test_options_after_path_and_double_dash(self):
        f = self.fields(fdkit("stat", "notes.txt", "--root", self.root, "--follow"))
        self.assertEqual(f["path"], "notes.txt")
        with open(os.path.join(self.root, "-dash"), "w") as out:
            out.write("dash\n")
        try:
            r = fdkit("cat", "--root", self.root, "--", "-dash")
        finally:
            os.unlink(os.path.join(self.root, "-dash"))
        self.assertEqual((r.returncode, r.stdout), (0, "dash\n"))

    def test_symlink_itself_and_followed(self):
        f = self.fields(fdkit("stat", "--root", self.root, "etc-link"))
        self.assertEqual(f["kind"], "symlink")
        self.assertEqual(f["target"], "/etc")
        self.assertEqual(f["size"], "4")
        f = self.fields(fdkit("stat", "--root", self.root, "--follow", "docs/notes-link"))
        self.assertEqual(f["kind"], "regular file")
        self.assertEqual(f["size"], "6")

    def test_escapes_refused(self):
        self.assert_refused(fdkit("stat", "--root", self.root, "--follow", "etc-link"), "stat", "etc-link")
        self.assert_refused(fdkit("stat", "--root", self.root, "--follow", "up"), "stat", "up")
        for path in ["../outside.txt", "/etc/passwd", "up/outside.txt", "etc-link/passwd"]:
            with self.subTest(path=path):
                self.assert_refused(fdkit("stat", "--root", self.root, path), "stat", path)

    def test_missing(self):
        self.assert_missing(fdkit("stat", "--root", self.root, "no/such"), "stat")

    def test_xattrs(self):
        path = os.path.join(self.root, "notes.txt")
        os.setxattr(path, "user.colour", b"blue sky")
        try:
            f = self.fields(fdkit("stat", "--root", self.root, "--xattrs", "--follow", "docs/notes-link"))
        finally:
            os.removexattr(path, "user.colour")
        self.assertEqual(f["xattr"], "user.colour='blue sky'")

    def test_in_root_keeps_escapes_inside(self):
        f = self.fields(fdkit("stat", "--root", self.root, "--in-root", "../../notes.txt"))
        self.assertEqual(f["size"], "6")
        # /etc inside the root, where there is none.
        r = fdkit("stat", "--root", self.root, "--in-root", "--follow", "etc-link/passwd")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ENOENT", r.stderr)

    def test_no_symlinks(self):
        r = fdkit("stat", "--root", self.root, "--no-symlinks", "--follow", "docs/notes-link")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ELOOP", r.stderr)

    def test_usage(self):
        self.assert_usage_errors("stat")

    def test_trace(self):
        self.assert_trace_keeps_output("stat", "--root", self.root, "docs", spans=["dir_open", "statat"])


class Tree(ConfinedTree):
    def test_whole_tree_sorted_symlinks_not_followed(self):
        r = fdkit("tree", "--root", self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.TREE)

    def test_subtree(self):
        r = fdkit("tree", "--root", self.root, "docs/deep")
        self.assertEqual((r.returncode, r.stdout), (0, "docs/deep\n`-- x\n\n1 directory, 1 file\n"))
        r = fdkit("tree", "--root", self.root, "docs/empty")
        self.assertEqual(r.stdout, "docs/empty\n\n0 directories, 0 files\n")

    def test_escapes_refused(self):
        for path in ["..", "up", "etc-link", "/", "docs/../.."]:
            with self.subTest(path=path):
                self.assert_refused(fdkit("tree", "--root", self.root, path), "tree", path)

    def test_missing(self):
        self.assert_missing(fdkit("tree", "--root", self.root, "no/such"), "tree")

    def test_unreadable_directory_is_reported_by_name_and_skipped(self):
        # Root reads any directory: then the walk runs as nobody, with a copy of the tool
        # that nobody can reach (the build tree may lie under a directory only its owner
        # enters, as one made by mktemp -d).
        as_user, tool, copies = [], FDKIT, None
        if os.geteuid() == 0:
            as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            copies = tempfile.mkdtemp(prefix="fdkit-tool-copy-")
            tool = copy_tool_with_its_library(copies)
        locked = os.path.join(self.root, "docs", "deep")
        os.chmod(self.top, 0o755)
        os.chmod(locked, 0o300)  # can be entered, not listed
        try:
            r = subprocess.run([*as_user, tool, "tree", "--root", self.root], capture_output=True, text=True,
                               timeout=60)
        finally:
            os.chmod(locked, 0o755)
            if copies:
                shutil.rmtree(copies)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("fdkit tree: readdir ./docs/deep: EACCES", r.stderr)
        self.assertIn("|-- empty/", r.stdout)

    def test_usage(self):
        self.assert_usage_errors("tree")

    def test_trace(self):
        self.assert_trace_keeps_output("tree", "--root", self.root, spans=["dir_open", "resolve", "readdir"])


class RunCwdRoot(ConfinedTree):
    def test_starts_beneath_the_root(self):
        r = fdkit("run", "--cwd-root", self.root, "--cwd", "docs/deep", "--", "pwd", "-P")
        self.assertEqual((r.returncode, r.stdout), (0, os.path.realpath(os.path.join(self.root, "docs/deep")) + "\n"))
        r = fdkit("run", "--cwd-root", self.root, "--", "pwd", "-P")
        self.assertEqual(r.stdout, os.path.realpath(self.root) + "\n")

    def test_escape_refused_before_the_start(self):
        for path in ["..", "up", "etc-link", "/tmp"]:
            with self.subTest(path=path):
                r = fdkit("run", "--cwd-root", self.root, "--cwd", path, "--", "echo", "started")
                self.assertEqual(r.returncode, 126)
                self.assertIn(f"fdkit run: refused: --cwd '{path}' leads outside --cwd-root {self.root}\n", r.stderr)
                self.assertEqual(r.stdout, "")


def shell_status(argv, timeout=60):
    """$? as a shell script sees it after argv: sh -c '"$@"; echo $?'."""
    r = subprocess.run(["sh", "-c", '"$@" >/dev/null 2>&1; echo $?', "sh", *argv], capture_output=True, text=True,
                       timeout=timeout)
    return int(r.stdout)


def raw_status(argv, timeout=60):
    """The wait status as a parent's waitpid sees it (negative: killed by that signal)."""
    return subprocess.run(argv, capture_output=True, timeout=timeout).returncode


class LikeTimeout(unittest.TestCase):
    """fdkit run ends as coreutils timeout ends, compared in the same test, through a shell's
    $? and through the raw wait status."""

    def assert_same(self, timeout_args, fdkit_args, cmd, expect_raw):
        real = ["timeout", *timeout_args, *cmd]
        ours = [FDKIT, "run", *fdkit_args, *cmd]
        with self.subTest(cmd=cmd, fdkit=fdkit_args):
            self.assertEqual(raw_status(real), expect_raw)
            self.assertEqual(raw_status(ours), expect_raw)
            expect_shell = 128 - expect_raw if expect_raw < 0 else expect_raw
            self.assertEqual(shell_status(real), expect_shell)
            self.assertEqual(shell_status(ours), expect_shell)

    def test_exit_codes_and_signals(self):
        self.assert_same(["10"], [], ["true"], 0)
        self.assert_same(["10"], [], ["sh", "-c", "exit 42"], 42)
        # killed by a signal, not a timeout: timeout re-raises it on itself
        self.assert_same(["10"], [], ["sh", "-c", "kill -9 $$"], -9)
        self.assert_same(["10"], [], ["sh", "-c", "kill -TERM $$"], -15)
        self.assert_same(["10"], [], ["sh", "-c", "kill -INT $$"], -2)

    def test_timeouts(self):
        self.assert_same(["0.2"], ["--timeout", "0.2s"], ["sleep", "10"], 124)
        self.assert_same(["--preserve-status", "0.2"], ["--preserve-status", "--timeout", "200"], ["sleep", "10"], 143)
        # (the shell gets 0.5 s to set its trap before the signal comes, even on a loaded machine)
        handles = ["sh", "-c", "trap 'exit 3' TERM; sleep 10 & wait"]
        self.assert_same(["0.5"], ["--timeout", "500", "--new-session"], handles, 124)
        self.assert_same(["--preserve-status", "0.5"], ["--preserve-status", "--timeout", "500", "--new-session"],
                         handles, 3)
        # TERM ignored: the KILL after the grace; timeout dies of it with its group
        ignores = ["sh", "-c", "trap '' TERM; exec sleep 10"]
        self.assert_same(["-k", "0.3", "0.5"], ["--timeout", "500", "--kill-after", "300"], ignores, -9)
        self.assert_same(["-k", "0.3", "0.5"], ["--timeout", "0.5s", "-k", "0.3s"], ignores, -9)
        self.assert_same(["-s", "KILL", "0.2"], ["--signal", "KILL", "--timeout", "200"], ["sleep", "10"], -9)
        self.assert_same(["-s", "INT", "0.2"], ["--signal", "INT", "--timeout", "200"], ["sleep", "10"], 124)
        self.assert_same(["--preserve-status", "-s", "HUP", "0.2"],
                         ["--preserve-status", "-s", "SIGHUP", "--timeout", "200"], ["sleep", "10"], 129)

    def test_cannot_start(self):
        self.assert_same(["10"], [], ["fdkit-no-such-command"], 127)
        self.assert_same(["10"], [], ["/"], 126)
        with tempfile.NamedTemporaryFile() as f:  # not executable
            self.assert_same(["10"], [], [f.name], 126)

    def test_usage_errors_are_125(self):
        self.assert_same(["--bogus", "10"], ["--bogus"], ["true"], 125)
        self.assert_same(["2x"], ["--timeout", "2x"], ["true"], 125)
        self.assert_same(["-s", "NOSUCH", "1"], ["--signal", "NOSUCH"], ["true"], 125)

    def test_sigchld_ignored_by_the_caller(self):
        # An inherited SIG_IGN for SIGCHLD would let the kernel reap the command.
        import signal
        r = subprocess.run([FDKIT, "run", "--", "sh", "-c", "exit 42"], capture_output=True, timeout=60,
                           preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        self.assertEqual(r.returncode, 42, r.stderr)


class RunLikeCoreutils(unittest.TestCase):
    def test_options_end_at_the_first_non_option(self):
        self.assertEqual(fdkit("run", "true").returncode, 0)
        r = fdkit("run", "echo", "--json", "--timeout")
        self.assertEqual((r.returncode, r.stdout), (0, "--json --timeout\n"))
        r = fdkit("run", "--timeout=5s", "--max-output=4", "printf", "abcd")
        self.assertEqual((r.returncode, r.stdout), (0, "abcd"))

    def test_duration_syntax(self):
        t0 = time.monotonic()
        r = fdkit("run", "--timeout", "0.3s", "--", "sleep", "10")
        self.assertEqual(r.returncode, 124)
        self.assertLess(time.monotonic() - t0, 5)
        for good in ["2m", "1.5s", "1500", "250ms", "0", "1h", "1d"]:
            self.assertEqual(fdkit("run", "--timeout", good, "--kill-after", good, "--", "true").returncode, 0, good)
        for bad in ["-1", "1x", "s", "", "1.5.5", "inf", "nan", "0x10", "1e400"]:
            r = fdkit("run", "--timeout", bad, "--", "true")
            self.assertEqual(r.returncode, 125, bad)
            self.assertIn("--timeout needs a duration", r.stderr)

    def test_missing_cwd_cannot_start_126(self):
        r = fdkit("run", "--cwd", "/nonexistent/dir", "--", "true")
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assertIn("ENOENT", r.stderr)

    def test_json_when_the_command_cannot_start(self):
        for args, code, err in [(["--", "fdkit-no-such-command"], 127, "ENOENT"), (["--", "/"], 126, "EACCES"),
                                (["--cwd", "/nonexistent/dir", "--", "true"], 126, "ENOENT"),
                                (["--stdin", "/nonexistent", "--", "true"], 125, "ENOENT")]:
            with self.subTest(args=args):
                r = fdkit("run", "--json", *args)
                self.assertEqual(r.returncode, code)
                doc = json.loads(r.stdout)
                self.assertEqual(doc["started"], False)
                self.assertEqual(doc["exit_code"], code)
                self.assertEqual(doc["error"]["errno"], err)
                self.assertTrue(doc["error"]["detail"])

    def test_new_session_ends_when_the_group_died(self):
        # Everything dies of the SIGTERM: no wait for the rest of the grace (timeout(1)
        # takes the timeout alone).
        t0 = time.monotonic()
        r = fdkit("run", "--timeout", "300", "--kill-after", "4s", "--new-session", "--", "sh", "-c",
                  "sleep 10 & sleep 10")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 124, r.stderr)
        self.assertLess(took, 2.5)

    def start(self, *args):
        p = subprocess.Popen([FDKIT, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline(), "ready\n")
        return p

    def test_signals_are_passed_on(self):
        import signal
        p = self.start("--", "sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; sleep 10 & wait")
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out), (7, "got-term\n"))
        p = self.start("--", "sh", "-c", "echo ready; exec sleep 10")
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGINT)
        # --new-session: the whole group gets it, so killing fdkit orphans nothing.
        p = self.start("--new-session", "--", "sh", "-c", "sleep 30 & echo ready; echo $!; wait")
        grandchild = int(p.stdout.readline())
        p.send_signal(signal.SIGHUP)
        p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(f"/proc/{grandchild}") and \
                open(f"/proc/{grandchild}/stat").read().split(") ")[1][0] != "Z":
            time.sleep(0.05)
        alive = os.path.exists(f"/proc/{grandchild}") and \
            open(f"/proc/{grandchild}/stat").read().split(") ")[1][0] != "Z"
        self.assertFalse(alive)

    def test_max_output_stops_the_command(self):
        r = fdkit("run", "--max-output", "1000", "--", "yes", timeout=60)
        self.assertEqual(r.stdout, "y\n" * 500)
        self.assertEqual(r.returncode, -15)  # stopped by the stop signal, which fdkit re-raises
        r = fdkit("run", "--max-output", "1K", "--json", "--", "yes", timeout=60)
        doc = json.loads(r.stdout)
        self.assertTrue(doc["truncated"])
        self.assertEqual(doc["stdout"]["bytes"], 1024)
        self.assertEqual(doc["status"], {"signal": 15})

    def test_max_output_cut_inside_a_character_stays_text(self):
        r = fdkit("run", "--max-output", "3", "--json", "--", "printf", "ab\u00e9cd")
        doc = json.loads(r.stdout)
        self.assertTrue(doc["truncated"])
        self.assertEqual(doc["stdout"]["encoding"], "utf-8")
        self.assertEqual(doc["stdout"]["data"], "ab")
        self.assertEqual(base64.b64decode(doc["stdout"]["incomplete_tail"]), b"\xc3")
        self.assertEqual(doc["stdout"]["bytes"], 3)
        # A cut that is not at the end is still not UTF-8.
        r = fdkit("run", "--json", "--", "printf", "\\303x")
        self.assertEqual(json.loads(r.stdout)["stdout"]["encoding"], "base64")

    def test_json_says_when_pipes_were_abandoned(self):
        r = fdkit("run", "--json", "--kill-after", "200", "--", "sh", "-c", "(exec sleep 2) & echo hi")
        doc = json.loads(r.stdout)
        self.assertTrue(doc["pipes_abandoned"])
        self.assertEqual(doc["stdout"]["data"], "hi\n")
        self.assertFalse(json.loads(fdkit("run", "--json", "--", "true").stdout)["pipes_abandoned"])

    def test_help_lists_every_option(self):
        options = {
            "run": ["--timeout", "--kill-after", "--grace", "--signal", "--preserve-status", "--max-output",
                    "--stdin", "--cwd", "--cwd-root", "--env", "--clear-env", "--new-session", "--close-fds",
                    "--json", "--trace", "--help"],
            "pump": ["--mib", "--trace", "--help"],
            "ls": ["--root", "--zero", "-0", "--trace", "--help"],
            "cat": ["--root", "--trace", "--help"],
            "stat": ["--root", "--follow", "--trace", "--help"],
            "tree": ["--root", "--zero", "-0", "--trace", "--help"],
        }
        for cmd, names in options.items():
            out = fdkit(cmd, "--help").stdout
            for name in names:
                self.assertRegex(out, rf"(?m)^ +(-\w, )?{name}\b", f"{cmd} --help lacks {name}")
        out = fdkit("--help").stdout
        for name in ["--help", "--version", "--trace"]:
            self.assertRegex(out, rf"(?m)^ +{name}\b")
        self.assertRegex(out, r"\n\nfdkit \d+\.\d+\.\d+\n$")


class PumpValidation(unittest.TestCase):
    def test_bad_numbers_are_refused(self):
        for bad in ["-1", "x", "99999999999999999999", "1048577", "0", "1.5", ""]:
            with self.subTest(value=bad):
                r = fdkit("pump", "--mib", bad, timeout=20)
                self.assertEqual(r.returncode, 125)
                self.assertIn("--mib needs a whole number from 1 to 1048576", r.stderr)
        r = fdkit("pump", "--mib=1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("moved 1 MiB", r.stdout)


class OutputErrors(ConfinedTree):
    def test_write_errors_are_reported(self):
        for args in [("ls", "--root", self.root), ("tree", "--root", self.root),
                     ("stat", "--root", self.root, "notes.txt"), ("cat", "--root", self.root, "notes.txt"),
                     ("run", "--json", "--", "true"), ("--help",), ("--version",)]:
            with self.subTest(args=args), open("/dev/full", "w") as full:
                r = subprocess.run([FDKIT, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("ENOSPC", r.stderr)

    def test_closed_pipe_ends_quietly(self):
        path = os.path.join(self.root, "big.bin")
        errors = os.path.join(self.top, "cat-errors")
        with open(path, "wb") as f:
            f.write(b"x" * (4 << 20))
        try:
            r = subprocess.run(["sh", "-c", '"$@" 2>"$ERRORS" | head -c 10', "sh", FDKIT, "cat", "--root", self.root,
                                "big.bin"], capture_output=True, timeout=60, env={**os.environ, "ERRORS": errors})
            with open(errors) as f:
                said = f.read()
        finally:
            os.unlink(path)
            os.unlink(errors)
        self.assertEqual(r.stdout, b"x" * 10)
        self.assertEqual(said, "")


class Names(unittest.TestCase):
    NAMES = ["plain", "a\nb", "a -> b", "c\x01d", "e\udcfff", "g h", "it's", "caf\u00e9"]

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="fdkit-names-")
        cls.root = os.path.join(cls.top, "r")
        os.mkdir(cls.root)
        for name in cls.NAMES:
            open(os.path.join(os.fsencode(cls.root), os.fsencode(name)), "w").close()
        os.symlink("a\nb", os.path.join(cls.root, "zlink"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top)

    def test_ls_quotes_like_gnu_ls(self):
        r = fdkit("ls", "--root", self.root, text=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode("utf-8").split("\n"), [
            "'a'$'\\n''b'", "'a -> b'", "'c'$'\\001''d'", "caf\u00e9", "'e'$'\\377''f'", "'g h'", "'it'\\''s'",
            "plain", "zlink -> 'a'$'\\n''b'", ""])

    def test_tree_quotes_too(self):
        r = fdkit("tree", "--root", self.root, text=False)
        self.assertIn(b"|-- 'a -> b'\n", r.stdout)
        self.assertIn(b"`-- zlink -> 'a'$'\\n''b'\n", r.stdout)
        self.assertIn(b"\n1 directory, 9 files\n", r.stdout)

    def test_zero_for_scripts(self):
        r = fdkit("ls", "-0", "--root", self.root, text=False)
        self.assertEqual(sorted(r.stdout.split(b"\0")[:-1]), sorted([os.fsencode(n) for n in self.NAMES] + [b"zlink"]))
        r = fdkit("tree", "--zero", "--root", self.root, text=False)
        self.assertEqual(sorted(r.stdout.split(b"\0")[:-1]),
                         sorted([b"./" + os.fsencode(n) for n in self.NAMES] + [b"./zlink"]))


class TreeCounts(unittest.TestCase):
    def test_counts_like_gnu_tree(self):
        # The numbers GNU tree 2.1 prints for the same tree.
        top = tempfile.mkdtemp(prefix="fdkit-counts-")
        try:
            os.makedirs(os.path.join(top, "f", "g", "h"))
            os.mkdir(os.path.join(top, "empty"))
            open(os.path.join(top, "f", "file"), "w").close()
            os.symlink("g", os.path.join(top, "f", "glink"))
            os.symlink("nowhere", os.path.join(top, "f", "dangling"))
            r = fdkit("tree", "--root", top, "f")
            self.assertTrue(r.stdout.endswith("\n4 directories, 2 files\n"), r.stdout)
            r = fdkit("tree", "--root", top, "empty")
            self.assertEqual(r.stdout, "empty\n\n0 directories, 0 files\n")
        finally:
            shutil.rmtree(top)


class FsCoreutils(ConfinedTree):
    def test_root_with_equals(self):
        r = fdkit("cat", f"--root={self.root}", "notes.txt")
        self.assertEqual((r.returncode, r.stdout), (0, "hello\n"))

    def test_cat_dash_reads_stdin(self):
        r = subprocess.run([FDKIT, "cat", "-"], input=b"from stdin\n", capture_output=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (0, b"from stdin\n"))

    def test_stat_device_as_major_minor(self):
        r = fdkit("stat", "--root", self.root, "notes.txt")
        st = os.stat(os.path.join(self.root, "notes.txt"))
        fields = dict(line.split(None, 1) for line in r.stdout.splitlines())
        self.assertEqual(fields["device"], f"{os.major(st.st_dev)},{os.minor(st.st_dev)}")
        r = fdkit("stat", "--root", "/dev", "null")
        fields = dict(line.split(None, 1) for line in r.stdout.splitlines())
        self.assertEqual(fields["rdev"], "1,3")


if __name__ == "__main__":
    FDKIT = os.path.abspath(sys.argv[1])
    # The signal tests compare with coreutils and send signals to the tool: both respect a
    # signal ignored at their start (as under nohup, or in a background job of a script),
    # so the runs start from the default dispositions whatever this process inherited.
    import signal
    for ignored_by_callers in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        signal.signal(ignored_by_callers, signal.SIG_DFL)
    tap.main(sys.modules[__name__])
