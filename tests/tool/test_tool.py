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
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: fdkit COMMAND", r.stderr)

    def test_help_lists_commands(self):
        r = fdkit("--help")
        self.assertEqual(r.returncode, 0)
        for command in ("run", "pump", "ls", "cat", "stat", "tree"):
            self.assertRegex(r.stdout, rf"\n  {command} +\S")

    def test_unknown_command(self):
        r = fdkit("frobnicate")
        self.assertEqual(r.returncode, 2)
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

    def test_killed_by_signal_is_128_plus(self):
        r = fdkit("run", "--", "sh", "-c", "kill -9 $$")
        self.assertEqual(r.returncode, 128 + 9)

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
        self.assertEqual(r.returncode, 128 + 15)
        self.assertEqual(json.loads(r.stdout)["status"], {"signal": 15})

    def test_max_output_truncates(self):
        r = fdkit("run", "--max-output", "10", "--json", "--", "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a")
        doc = json.loads(r.stdout)
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
        self.assertEqual(fdkit("run").returncode, 2)
        self.assertEqual(fdkit("run", "--timeout", "soon", "--", "true").returncode, 2)
        self.assertEqual(fdkit("run", "--env", "NOEQUALS", "--", "true").returncode, 2)
        self.assertEqual(fdkit("run", "--bogus", "--", "true").returncode, 2)
        self.assertEqual(fdkit("run", "--timeout").returncode, 2)
        self.assertEqual(fdkit("run", "--stdin", "/nonexistent", "--", "true").returncode, 2)
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
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown argument '--bogus'", r.stderr)

    def test_trace_prints_spans(self):
        r = fdkit("pump", "--mib", "1", "--trace")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.startswith("trace: ")]
        self.assertTrue(any(l.split()[1] == "write" for l in lines), r.stderr[:500])
        self.assertTrue(any(l.split()[1] == "read" for l in lines), r.stderr[:500])
        # name, duration in ms, result
        self.assertRegex(lines[0], r"^trace: \S+\s+\d+\.\d{3} ms  (-E[A-Z0-9]+|\d+)")


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
            "3 directories, 7 files\n")
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
        self.assertRegex(r.stderr, rf"^fdkit {cmd}: \S+: ENOENT .*'no/such'")
        self.assertEqual(r.stdout, "")

    def assert_usage_errors(self, cmd):
        self.assertEqual(fdkit(cmd, "notes.txt").returncode, 2)  # no --root
        self.assertEqual(fdkit(cmd, "--root").returncode, 2)  # no value
        self.assertEqual(fdkit(cmd, "--root", self.root, "--bogus", "x").returncode, 2)
        r = fdkit(cmd, "--root", self.root, "a", "b")
        self.assertEqual(r.returncode, 2)
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
        self.assertEqual(fdkit("ls", "--root", self.root, "--follow").returncode, 2)

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
        self.assertIn("fdkit cat: read: EISDIR", r.stderr)

    def test_usage(self):
        self.assert_usage_errors("cat")
        self.assertEqual(fdkit("cat", "--root", self.root).returncode, 2)  # PATH is required

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
        self.assertEqual((r.returncode, r.stdout), (0, "docs/deep\n`-- x\n\n0 directories, 1 file\n"))
        r = fdkit("tree", "--root", self.root, "docs/empty")
        self.assertEqual(r.stdout, "docs/empty\n\n0 directories, 0 files\n")

    def test_escapes_refused(self):
        for path in ["..", "up", "etc-link", "/", "docs/../.."]:
            with self.subTest(path=path):
                self.assert_refused(fdkit("tree", "--root", self.root, path), "tree", path)

    def test_missing(self):
        self.assert_missing(fdkit("tree", "--root", self.root, "no/such"), "tree")

    @unittest.skipIf(os.geteuid() == 0, "root reads any directory")
    def test_unreadable_directory_is_reported_and_skipped(self):
        locked = os.path.join(self.root, "docs", "deep")
        os.chmod(locked, 0)
        try:
            r = fdkit("tree", "--root", self.root)
        finally:
            os.chmod(locked, 0o755)
        self.assertEqual(r.returncode, 1)
        self.assertIn("fdkit tree: readdir: EACCES", r.stderr)
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


if __name__ == "__main__":
    FDKIT = os.path.abspath(sys.argv[1])
    tap.main(sys.modules[__name__])
