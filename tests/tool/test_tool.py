"""End-to-end tests of the fdkit tool, run as a subprocess.

usage: test_tool.py PATH_TO_FDKIT
"""
import os
import subprocess
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
