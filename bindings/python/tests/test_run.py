# SPDX-License-Identifier: MIT
"""run.h: a command run to completion with capture, stdin, timeout and a confined cwd."""
import errno
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time

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


class RunOptionsTest(TestCase):
    """Cancel policies, stop signal, output stop, early exit, fd policies, cwd and stdin
    forms, group modes, the result's extra fields, and signals to an async run."""

    def test_graceful_cancel_sends_the_stop_signal_first(self):
        # The child is stopped once it said it is ready (an early exit applies the cancel
        # policy as a timeout does), so no timing decides what it has set up by then.
        def ready(out):
            return b"ready" in out

        script = "trap 'echo got-usr1; exit 9' USR1; echo ready; while :; do sleep 0.05; done"
        r = fdkit.run(["sh", "-c", script], cancel=fdkit.CANCEL_GRACEFUL, kill_grace_ms=5000,
                      stop_signal=signal.SIGUSR1, early_exit=ready)
        self.assertTrue(r.early_exit)
        self.assertEqual((r.stdout, r.exit_code), (b"ready\ngot-usr1\n", 9))
        r = fdkit.run(["sh", "-c", "trap '' TERM; echo ready; sleep 5; echo survived"], early_exit=ready,
                      cancel=fdkit.CANCEL_GRACEFUL, kill_grace_ms=100)
        self.assertEqual((r.signal, r.stdout), (signal.SIGKILL, b"ready\n"))
        r = fdkit.run(["sh", "-c", "sleep 0.3; echo done"], timeout_ms=50, cancel=fdkit.CANCEL_NONE)
        self.assertEqual((r.timed_out, r.exit_code, r.stdout), (True, 0, b"done\n"))
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.run(["true"], stop_signal=12345)
        self.assertEqual(caught.exception.errno, errno.EINVAL)

    def test_stop_at_max_output_and_early_exit(self):
        started = time.monotonic()
        r = fdkit.run(["yes"], max_output=1000, stop_at_max_output=True)
        self.assertLess(time.monotonic() - started, 20)
        self.assertEqual((r.truncated, len(r.stdout), r.signal), (True, 1000, signal.SIGKILL))
        seen = []

        def ready(so_far):
            seen.append(so_far)
            return b"READY" in so_far

        r = fdkit.run(["sh", "-c", "echo a; sleep 0.1; echo READY; sleep 30"], early_exit=ready)
        self.assertTrue(r.early_exit)
        self.assertEqual(r.signal, signal.SIGKILL)
        self.assertTrue(r.stdout.endswith(b"READY\n"))
        self.assertEqual(seen[-1], r.stdout)

        def broken(so_far):
            raise KeyError("from the predicate")

        with self.assertRaises(KeyError):
            fdkit.run(["sh", "-c", "echo x; sleep 30"], early_exit=broken)

    def test_fd_policies_as_subprocess_names_them(self):
        # Numbers above what ls opens for itself; raw is inheritable (no close-on-exec).
        null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        raw = fcntl.fcntl(null, fcntl.F_DUPFD, 40)
        try:
            listing = "ls /proc/self/fd"
            kept = fdkit.run(["sh", "-c", listing]).stdout.split()
            self.assertIn(str(raw).encode(), kept)
            closed = fdkit.run(["sh", "-c", listing], close_fds=True).stdout.split()
            self.assertNotIn(str(raw).encode(), closed)
            other = fcntl.fcntl(null, fcntl.F_DUPFD_CLOEXEC, 50)
            try:
                passed = fdkit.run(["sh", "-c", listing], pass_fds=[other]).stdout.split()
            finally:
                os.close(other)
            self.assertIn(str(other).encode(), passed)
            self.assertNotIn(str(raw).encode(), passed)
        finally:
            os.close(raw)
            os.close(null)
        with self.assertRaises(fdkit.Error):
            fdkit.run(["true"], pass_fds=[1])  # below 3

    def test_cwd_path_and_fd_stdin_fd_groups_and_result_fields(self):
        with tempfile.TemporaryDirectory() as top:
            self.assertEqual(fdkit.run(["pwd", "-P"], cwd=top).stdout, os.path.realpath(top).encode() + b"\n")
            with fdkit.Dir.at(top) as d, d.fd() as fd:
                self.assertEqual(fdkit.run(["pwd", "-P"], cwd=fd).stdout, os.path.realpath(top).encode() + b"\n")
        r, w = fdkit.pipe()
        w.write(b"from a pipe")
        w.close()
        res = fdkit.run(["cat"], stdin=r)
        self.assertEqual(res.stdout, b"from a pipe")
        self.assertGreater(res.duration_ns, 0)
        self.assertGreater(res.usage.maxrss_kib, 0)
        self.assertFalse(res.early_exit or res.pipes_abandoned)
        sid = fdkit.run([sys.executable, "-c", "import os; print(os.getsid(0) == os.getpid())"], start_new_session=True)
        self.assertEqual(sid.stdout, b"True\n")
        with fdkit.spawn(["sleep", "30"], process_group=0) as leader:
            joined = fdkit.run([sys.executable, "-c", "import os; print(os.getpgid(0))"], process_group=leader.pid)
            self.assertEqual(joined.stdout, f"{leader.pid}\n".encode())
        abandoned = fdkit.run(["sh", "-c", "sleep 30 & echo bg"], kill_grace_ms=100, new_group=True)
        self.assertTrue(abandoned.pipes_abandoned)
        os.killpg(abandoned.pid, signal.SIGKILL)
        forked = fdkit.run(["echo", "fork"], backend=fdkit.process.BACKEND_FORK)
        self.assertEqual(forked.stdout, b"fork\n")

    def test_async_run_signal_and_cancel(self):
        got, ops = [], []

        def on_output(out):
            # Signal once the trap is set (the child says so); from the loop, not from here.
            if out == b"ready\n":
                lp.post(lambda: ops[0].signal(signal.SIGUSR2))
            return False

        with fdkit.Loop() as lp:
            op = lp.run_async(["sh", "-c", "trap 'echo usr2; exit 4' USR2; echo ready; while :; do sleep 0.05; done"],
                              got.append, early_exit=on_output)
            self.assertIsInstance(op, fdkit.RunOp)
            ops.append(op)
            lp.run()
            with self.assertRaises(ProcessLookupError):
                op.signal(0)
            cancelled = lp.run_async(["sleep", "30"], got.append)
            lp.sleep_until(fdkit.now_ns() + 50_000_000, lambda _: cancelled.cancel())
            lp.run()
        self.assertEqual((got[0].exit_code, got[0].stdout, got[0].early_exit), (4, b"ready\nusr2\n", False))
        self.assertEqual(got[1].signal, signal.SIGKILL)
