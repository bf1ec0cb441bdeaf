"""End-to-end tests of the fdkit tool, run as a subprocess.

usage: test_tool.py PATH_TO_FDKIT
"""
import base64
import json
import os
import subprocess
import tempfile
import time
import sys
import unittest

import tap

FDKIT = None


def fdkit(*args, timeout=60):
    return subprocess.run([FDKIT, *args], capture_output=True, text=True, timeout=timeout)


class Usage(unittest.TestCase):
    def test_no_command_is_usage_error(self):
        r = fdkit()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: fdkit COMMAND", r.stderr)

    def test_help_lists_commands(self):
        r = fdkit("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("pump", r.stdout)

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


if __name__ == "__main__":
    FDKIT = os.path.abspath(sys.argv[1])
    tap.main(sys.modules[__name__])
