# SPDX-License-Identifier: MIT
"""run.h: a command run to completion with capture, stdin, timeout and a confined cwd."""
import os
import signal
import subprocess
import tempfile

import fdkit
from support import TestCase


class RunTest(TestCase):
    def test_capture_exit_code_and_stdin(self):
        r = fdkit.run(["sh", "-c", "cat; echo err >&2; exit 3"], stdin=b"fed in")
        self.assertEqual((r.exit_code, r.signal, r.stdout, r.stderr), (3, None, b"fed in", b"err\n"))
        self.assertFalse(r.timed_out)
        self.assertGreater(r.pid, 0)

    def test_nul_in_an_argument_or_the_environment_is_value_error(self):
        # As subprocess refuses them: a C string would end at the NUL.
        for argv, env in ((["echo", "a\0b"], None), (["echo\0x"], None), (["true"], {"A": "x\0y"})):
            with self.assertRaisesRegex(ValueError, "embedded null byte"):
                fdkit.run(argv, env=env)
            if env is None:
                with self.assertRaisesRegex(ValueError, "embedded null byte"):
                    fdkit.spawn(argv)

    def test_timeout_in_seconds_raises_timeout_expired_as_subprocess_run(self):
        with self.assertRaises(subprocess.TimeoutExpired) as caught:
            fdkit.run(["sh", "-c", "echo started; sleep 30"], timeout=1)
        e = caught.exception
        self.assertIsInstance(e, fdkit.TimeoutExpired)
        self.assertEqual((e.cmd, e.timeout, e.output), (["sh", "-c", "echo started; sleep 30"], 1, b"started\n"))
        self.assertEqual(e.result.returncode, -signal.SIGKILL)
        r = fdkit.run(["sh", "-c", "exit 4"], timeout=30)
        self.assertEqual(r.returncode, 4)

    def test_timeout_kills_the_group(self):
        r = fdkit.run(["sh", "-c", "sleep 30 & wait"], timeout_ms=100, new_group=True)
        self.assertTrue(r.timed_out)
        self.assertEqual(r.signal, signal.SIGKILL)

    def test_env_cwd_and_truncation(self):
        with tempfile.TemporaryDirectory() as top:
            with fdkit.Dir.at(top) as d:
                r = fdkit.run(["sh", "-c", "pwd -P; echo $ONLY"], env={"ONLY": "this", "PATH": os.environ["PATH"]},
                              cwd=d)
            self.assertEqual(r.stdout, os.path.realpath(top).encode() + b"\nthis\n")
        r = fdkit.run(["head", "-c", "100000", "/dev/zero"], max_output=10)
        self.assertTrue(r.truncated)
        self.assertEqual(len(r.stdout), 10)

    def test_missing_program_raises(self):
        with self.assertRaises(fdkit.Error):
            fdkit.run(["/nonexistent/program"])

    def test_async_runs_on_the_loop(self):
        got = []
        with fdkit.Loop() as lp:
            lp.run_async(["echo", "async"], got.append)
            lp.run_async(["sleep", "5"], got.append, timeout_ms=50)
            self.assertEqual(got, [])
            lp.run()
        by_output = sorted(got, key=lambda r: r.stdout)
        self.assertEqual(by_output[0].stdout, b"")
        self.assertTrue(by_output[0].timed_out)
        self.assertEqual((by_output[1].stdout, by_output[1].exit_code), (b"async\n", 0))
